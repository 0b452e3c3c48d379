package io.heterorag.generation.rest;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

import jakarta.inject.Inject;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import io.grpc.Status;
import io.heterorag.generation.config.GenerationConfig;
import org.eclipse.microprofile.openapi.annotations.Operation;
import org.eclipse.microprofile.openapi.annotations.parameters.Parameter;
import org.eclipse.microprofile.openapi.annotations.responses.APIResponse;
import org.eclipse.microprofile.openapi.annotations.tags.Tag;

/**
 * The demo's images for the review page: the MedPix 2.0 split named by heterorag.web.demo-split
 * (dev: images the store was not built from) in heterorag.web.medpix-dir. Only what identifies an
 * image is listed (kind, plane, body location), never its caption or the case's diagnosis.
 */
@jakarta.ws.rs.Path("/v1/demo-images")
@Tag(name = "demo", description = "Public MedPix 2.0 images to try the review page with")
public class DemoImagesResource {

    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9_-]{1,80}");

    @Inject
    GenerationConfig config;

    private final ObjectMapper json = new ObjectMapper();

    @GET
    @Produces(MediaType.APPLICATION_JSON)
    @Operation(summary = "List the demo images", description = "[{\"image\", \"type\" (CT, MR), \"plane\", \"location\"}]; "
            + "empty when the MedPix directory is not there.")
    public String list() throws IOException {
        ArrayNode out = json.createArrayNode();
        Path descriptions = Path.of(config.web().medpixDir()).resolve("descriptions_" + config.web().demoSplit() + ".jsonl");
        if (!Files.isReadable(descriptions)) {
            return out.toString();
        }
        List<String> lines = Files.readAllLines(descriptions);
        for (String line : lines.subList(0, Math.min(config.web().demoImages(), lines.size()))) {
            JsonNode n = json.readTree(line);
            String image = n.path("image").asText();
            if (NAME.matcher(image).matches() && Files.isReadable(file(image))) {
                out.addObject().put("image", image).put("type", n.path("Type").asText()).put("plane",
                        n.path("Description").path("Plane").asText()).put("location", n.path("Location").asText());
            }
        }
        return out.toString();
    }

    @GET
    @jakarta.ws.rs.Path("/{image}")
    @Produces("image/jpeg")
    @Operation(summary = "One demo image (JPEG)")
    @APIResponse(responseCode = "404", description = "No such demo image")
    public Response image(@Parameter(description = "An image name from the list") @PathParam("image") String image) throws IOException {
        if (!NAME.matcher(image).matches() || !Files.isReadable(file(image))) {
            throw Status.NOT_FOUND.withDescription("no demo image " + (NAME.matcher(image).matches() ? image : "with that name"))
                    .asRuntimeException();
        }
        return Response.ok(Files.readAllBytes(file(image)), "image/jpeg").build();
    }

    private Path file(String image) {
        return Path.of(config.web().medpixDir()).resolve("images").resolve(image + ".jpg");
    }
}
