package io.heterorag.guard;

import jakarta.ws.rs.GET;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;

/** Stand-ins for the services' HTTP endpoints, for the HTTP guard. */
@Path("/v1")
public class TestHttpResource {

    @POST
    @Path("/answer")
    public String answer() {
        return "answered";
    }

    @GET
    @Path("/demo-images")
    public String demoImages() {
        return "[]";
    }
}
