package io.heterorag.guard;

import jakarta.inject.Inject;
import jakarta.ws.rs.container.ContainerRequestContext;
import jakarta.ws.rs.container.ContainerRequestFilter;
import jakarta.ws.rs.core.Response;
import jakarta.ws.rs.ext.Provider;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;

/**
 * The HTTP/JSON API under the same callers and keys as gRPC (secure stacks only): asking
 * ({@code /v1/answer…}) and the review page's feedback and traces ({@code /v1/feedback}, {@code /v1/traces})
 * need the {@code clinical} role; the page itself, its demo images and {@code /q/…} stay open.
 * Refusals are problem documents with the gRPC status, as the REST transports answer errors.
 */
@Provider
public class HttpCallGuard implements ContainerRequestFilter {

    @Inject
    CallGuard guard;

    /** The role a path needs; null: open. */
    static String requiredRole(String path) {
        String p = path.startsWith("/") ? path : "/" + path;
        return p.startsWith("/v1/answer") || p.startsWith("/v1/feedback") || p.startsWith("/v1/traces") ? Caller.CLINICAL : null;
    }

    @Override
    public void filter(ContainerRequestContext request) {
        String path = request.getUriInfo().getPath();
        try {
            guard.authorize(request.getHeaderString("Authorization"), requiredRole(path), request.getMethod() + " " + path);
        } catch (StatusRuntimeException e) {
            Status s = e.getStatus();
            int http = s.getCode() == Status.Code.UNAUTHENTICATED ? 401 : 403;
            request.abortWith(Response.status(http).type("application/problem+json")
                    .header("WWW-Authenticate", http == 401 ? "Bearer" : null)
                    .entity("{\"type\":\"about:blank\",\"title\":\"" + (http == 401 ? "Unauthorized" : "Forbidden") + "\",\"status\":" + http
                            + ",\"detail\":\"" + s.getDescription().replace("\"", "'") + "\",\"grpc_status\":\"" + s.getCode().name() + "\"}")
                    .build());
        }
    }
}
