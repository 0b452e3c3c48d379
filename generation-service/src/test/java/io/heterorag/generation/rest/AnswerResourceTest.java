package io.heterorag.generation.rest;

import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.hasItem;
import static org.hamcrest.Matchers.hasItems;
import static org.hamcrest.Matchers.notNullValue;
import static org.hamcrest.Matchers.startsWith;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;

import io.grpc.Channel;
import io.grpc.HandlerRegistry;
import io.grpc.MethodDescriptor;
import io.grpc.Server;
import io.grpc.ServerBuilder;
import io.grpc.ServerCall;
import io.grpc.ServerMethodDefinition;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.quarkus.grpc.GrpcClient;
import io.heterorag.proto.json.ProtoJson;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.http.ContentType;
import io.restassured.path.json.JsonPath;
import io.restassured.response.Response;
import org.eclipse.microprofile.config.ConfigProvider;
import org.junit.jupiter.api.Test;

/**
 * The HTTP/JSON API on the real pipeline (the gRPC tests' app: a real broker, nothing listening on the
 * retrieval, querygen and tuning test ports). Answers without retrieval (skip_reports and
 * skip_knowledge: the no-retrieval ablation) run the whole pipeline here, trace published included;
 * answers with retrieval, and the feedback proxy against a real tuning-service, run in StackIT.
 */
@QuarkusTest
class AnswerResourceTest {

    @GrpcClient("retrieval")
    Channel retrievalChannel;

    static final String NO_RETRIEVAL = "{\"skip_reports\":true,\"skip_knowledge\":true}";
    static final byte[] JPEG = {(byte) 0xFF, (byte) 0xD8, (byte) 0xFF, 0};

    static Path medpixImage() throws IOException {
        Path dir = Path.of(ConfigProvider.getConfig().getValue("heterorag.web.medpix-dir", String.class));
        String first = Files.readAllLines(dir.resolve("descriptions_dev.jsonl")).get(0);
        String image = first.replaceAll(".*\"image\":\"([^\"]+)\".*", "$1");
        return dir.resolve("images/" + image + ".jpg");
    }

    @Test
    void jsonAnswerRunsThePipelineAndAnswersWithProtoFieldNames() {
        String body = "{\"request_id\":\"rest-1\",\"question\":\"Is there a fracture?\",\"task\":\"OPEN_VQA\",\"options\":" + NO_RETRIEVAL + "}";
        JsonPath res = given().urlEncodingEnabled(false).contentType(ContentType.JSON).body(body).post("/v1/answer").then().statusCode(200)
                .contentType(ContentType.JSON).body("trace_id", notNullValue()).body("models.answerer", equalTo("extractive-evidence-ranker@1"))
                .body("latencies.stage", hasItems("answer", "total")).body("modality", equalTo("RADIOLOGY"))
                .extract().jsonPath();
        assertFalse(res.getString("answer").isBlank());
        assertEquals(36, res.getString("trace_id").length());
        // fields at their defaults are printed too: a client sees every field of AnswerResponse
        assertTrue(res.getMap("").keySet().containsAll(List.of("reports", "knowledge", "queries", "reports_chosen_k", "evidence_dropped",
                "finish_reason", "prompt_tokens", "generated_tokens", "candidates")), res.getMap("").keySet().toString());
    }

    @Test
    void multipartAnswerTakesTheImageFileAndTheFields() throws IOException {
        given().urlEncodingEnabled(false).multiPart("image", medpixImage().toFile(), "image/jpeg").multiPart("question", "What is the most likely diagnosis?")
                .multiPart("task", "open_vqa").multiPart("modality", "radiology").multiPart("request_id", "rest-form")
                .multiPart("options", NO_RETRIEVAL).post("/v1/answer").then().statusCode(200).contentType(ContentType.JSON)
                .body("trace_id", notNullValue()).body("modality", equalTo("RADIOLOGY"));
    }

    @Test
    void theStreamSendsEvidenceThenSegmentsThenDoneAsServerSentEvents() throws IOException {
        Response r = given().urlEncodingEnabled(false).multiPart("image", medpixImage().toFile(), "image/jpeg").multiPart("question", "What is shown?")
                .multiPart("options", NO_RETRIEVAL).accept("text/event-stream").post("/v1/answer:stream");
        r.then().statusCode(200).contentType(startsWith("text/event-stream"));
        List<String[]> events = events(r.asString());
        assertEquals("evidence", events.get(0)[0], r.asString());
        assertEquals("done", events.get(events.size() - 1)[0]);
        StringBuilder text = new StringBuilder();
        for (String[] e : events.subList(1, events.size() - 1)) {
            assertEquals("segment", e[0]);
            text.append(JsonPath.from(e[1]).getString("text"));
        }
        assertTrue(events.size() >= 3, "at least one segment: " + r.asString());
        assertEquals(JsonPath.from(events.get(events.size() - 1)[1]).getString("answer"), text.toString(), "the segments make up the answer");
        // the JSON request streams too
        Response json = given().urlEncodingEnabled(false).contentType(ContentType.JSON).body("{\"question\":\"q\",\"options\":" + NO_RETRIEVAL + "}")
                .post("/v1/answer:stream");
        assertEquals(List.of("evidence", "segment", "done"), events(json.asString()).stream().map(e -> e[0]).distinct().toList());
    }

    @Test
    void badInputIs400WithTheGrpcMessageOnEveryAnswerEndpoint() {
        String jpeg = Base64.getEncoder().encodeToString(JPEG);
        Map<String, String> bad = Map.of(
                "{\"question\":\"q\"}", "image is empty",
                "{\"image\":{\"data\":\"" + jpeg + "\"},\"question\":\"q\",\"modality\":7}", "unknown modality 7",
                "{\"image\":{\"data\":\"" + jpeg + "\"},\"question\":\" \"}", "question is empty",
                "{\"image\":{\"data\":\"" + jpeg + "\"},\"question\":\"q\",\"options\":{\"temperature\":3}}", "options.temperature must be in 0..2",
                "{\"image\":{\"data\":\"" + jpeg + "\"},\"question\":\"q\",\"modality\":\"DENTAL\"}", "not a valid JSON AnswerRequest",
                "{\"question\":\"q\",\"colour\":\"red\"}", "not a valid JSON AnswerRequest",
                "this is not JSON", "not a valid JSON AnswerRequest",
                "", "the body is empty");
        for (String path : List.of("/v1/answer", "/v1/answer:stream")) {
            bad.forEach((body, message) -> problem(given().urlEncodingEnabled(false).contentType(ContentType.JSON).body(body).post(path), 400, message, "INVALID_ARGUMENT"));
            problem(given().urlEncodingEnabled(false).multiPart("image", "x.jpg", JPEG, "image/jpeg").multiPart("question", "q").multiPart("modality", "dental")
                    .post(path), 400, "unknown modality dental (one of [RADIOLOGY, OPHTHALMOLOGY, PATHOLOGY])", "INVALID_ARGUMENT");
            problem(given().urlEncodingEnabled(false).multiPart("image", "x.jpg", JPEG, "image/jpeg").multiPart("question", "q").multiPart("task", "essay")
                    .post(path), 400, "unknown task essay", "INVALID_ARGUMENT");
            problem(given().urlEncodingEnabled(false).multiPart("image", "x.jpg", JPEG, "image/jpeg").multiPart("question", "q").multiPart("options", "{\"report_k\":-1}")
                    .post(path), 400, "options.report_k is -1, outside 0..64", "INVALID_ARGUMENT");
            problem(given().urlEncodingEnabled(false).multiPart("question", "q").post(path), 400, "image is empty", "INVALID_ARGUMENT");
        }
    }

    @Test
    void anImageOverTheLimitIs413() {
        byte[] big = new byte[17 * 1024 * 1024];
        big[0] = (byte) 0xFF;
        String body = "{\"question\":\"q\",\"image\":{\"data\":\"" + Base64.getEncoder().encodeToString(big) + "\"}}";
        problem(given().urlEncodingEnabled(false).contentType(ContentType.JSON).body(body).post("/v1/answer"), 413, "exceeds the limit of 16777216 bytes",
                "RESOURCE_EXHAUSTED");
        problem(given().urlEncodingEnabled(false).multiPart("image", "big.jpg", big, "image/jpeg").multiPart("question", "q").post("/v1/answer:stream"), 413,
                "exceeds the limit", "RESOURCE_EXHAUSTED");
    }

    @Test
    void downBackingServicesDegradeTheAnswerAndADownTuningServiceIs503() {
        // retrieval and querygen are down here: the answer is made from what worked, each failure listed
        given().urlEncodingEnabled(false).contentType(ContentType.JSON).body("{\"question\":\"q\",\"options\":{\"skip_reports\":true}}")
                .post("/v1/answer").then().statusCode(200).body("degraded.stage", hasItem("queries"))
                .body("degraded.stage", hasItem("knowledge:BOOK"));
        // the page's feedback and traces go to tuning-service, down here too
        problem(given().urlEncodingEnabled(false).contentType(ContentType.JSON).body("{\"trace_id\":\"t\",\"rating\":1}").post("/v1/feedback"), 503,
                "tuning-service (feedback)", "UNAVAILABLE");
        problem(given().urlEncodingEnabled(false).get("/v1/traces"), 503, "tuning-service (traces)", "UNAVAILABLE");
        problem(given().urlEncodingEnabled(false).get("/v1/traces/some-id"), 503, "tuning-service (traces)", "UNAVAILABLE");
        problem(given().urlEncodingEnabled(false).contentType(ContentType.JSON).body("{\"trace_id\":\"t\",\"mood\":1}").post("/v1/feedback"), 400,
                "not a valid JSON Feedback", "INVALID_ARGUMENT");
    }

    @Test
    void aPassedDeadlineIs504NamingTheStage() throws Exception {
        // a hung dependency: a gRPC server on the retrieval client's test port that takes every call and never
        // answers (no retrieval logic, a fault); the channel's reconnect backoff after the refused connections
        // of other tests is reset so that it dials it now
        int port = ConfigProvider.getConfig().getValue("quarkus.grpc.clients.retrieval.test-port", Integer.class);
        MethodDescriptor.Marshaller<InputStream> raw = new MethodDescriptor.Marshaller<>() {
            @Override
            public InputStream stream(InputStream value) {
                return value;
            }

            @Override
            public InputStream parse(InputStream stream) {
                return stream;
            }
        };
        HandlerRegistry hang = new HandlerRegistry() {
            @Override
            public ServerMethodDefinition<?, ?> lookupMethod(String method, String authority) {
                return ServerMethodDefinition.create(MethodDescriptor.newBuilder(raw, raw).setFullMethodName(method)
                        .setType(MethodDescriptor.MethodType.UNKNOWN).build(), (call, headers) -> new ServerCall.Listener<InputStream>() {
                        });
            }
        };
        Server hung = ServerBuilder.forPort(port).fallbackHandlerRegistry(hang).build().start();
        try {
            ((ManagedChannel) retrievalChannel).resetConnectBackoff();
            String jpeg = Base64.getEncoder().encodeToString(JPEG);
            for (String path : List.of("/v1/answer", "/v1/answer:stream")) {
                problem(given().urlEncodingEnabled(false).contentType(ContentType.JSON).body("{\"image\":{\"data\":\"" + jpeg
                        + "\"},\"question\":\"q\",\"options\":{\"deadline_ms\":400}}").post(path), 504, "stage reports", "DEADLINE_EXCEEDED");
            }
        } finally {
            hung.shutdownNow().awaitTermination(5, java.util.concurrent.TimeUnit.SECONDS);
            ((ManagedChannel) retrievalChannel).resetConnectBackoff();
        }
    }

    @Test
    void statusesOfCallersNotAllowedMapTo401And403() {
        // no caller authentication yet (the security issue): the mapping the REST API will use is fixed here
        assertEquals(401, ProtoJson.httpStatus(Status.UNAUTHENTICATED));
        assertEquals(403, ProtoJson.httpStatus(Status.PERMISSION_DENIED));
        assertEquals(429, ProtoJson.httpStatus(Status.RESOURCE_EXHAUSTED.withDescription("too many requests in flight")));
        assertEquals(413, ProtoJson.httpStatus(Status.RESOURCE_EXHAUSTED.withDescription("image of 9 bytes exceeds the limit of 8 bytes")));
        JsonPath p = JsonPath.from(ProtoJson.problem(Status.PERMISSION_DENIED.withDescription("role \"clinician\" required")));
        assertEquals("role \"clinician\" required", p.getString("detail"));
        assertEquals("Forbidden", p.getString("title"));
    }

    @Test
    void demoImagesAreListedAndServedAndNothingElseIs() throws IOException {
        List<Map<String, String>> list = given().urlEncodingEnabled(false).get("/v1/demo-images").then().statusCode(200).extract().jsonPath().getList("");
        assertFalse(list.isEmpty());
        String image = list.get(0).get("image");
        assertEquals(medpixImage().getFileName().toString(), image + ".jpg", "the dev split's first image");
        assertTrue(list.get(0).containsKey("plane") && !list.get(0).containsKey("caption"), "no caption: it would give the answer away");
        byte[] jpeg = given().urlEncodingEnabled(false).get("/v1/demo-images/" + image).then().statusCode(200).contentType("image/jpeg").extract().asByteArray();
        assertEquals(Files.size(medpixImage()), jpeg.length);
        problem(given().urlEncodingEnabled(false).get("/v1/demo-images/nope"), 404, "no demo image nope", "NOT_FOUND");
        given().urlEncodingEnabled(false).get("/v1/demo-images/..%2Fdata_dev").then().statusCode(404);
    }

    @Test
    void theReviewPageIsServedWithEverythingFromTheService() throws IOException {
        String html = given().urlEncodingEnabled(false).get("/").then().statusCode(200).contentType(ContentType.HTML).extract().asString();
        assertTrue(html.contains("<label for=\"question\">"), "labelled inputs");
        for (String file : List.of("index.html", "review.js", "review.css")) {
            String text;
            try (InputStream in = getClass().getClassLoader().getResourceAsStream("META-INF/resources/" + file)) {
                text = new String(in.readAllBytes(), StandardCharsets.UTF_8);
            }
            given().urlEncodingEnabled(false).get("/" + file).then().statusCode(200);
            assertFalse(text.matches("(?s).*(https?:)?//[a-z0-9.-]+\\.[a-z]{2,}/.*"), file + " loads nothing from another origin");
            assertFalse(text.contains("localStorage") || text.contains("sessionStorage") || text.contains("document.cookie"),
                    file + " keeps nothing in the browser");
        }
    }

    @Test
    void theOpenApiDocumentDescribesEveryEndpointAndEveryField() {
        JsonPath doc = given().urlEncodingEnabled(false).queryParam("format", "json").get("/q/openapi").then().statusCode(200).extract().jsonPath();
        assertTrue(doc.getMap("paths").keySet().containsAll(List.of("/v1/answer", "/v1/answer:stream", "/v1/feedback", "/v1/traces",
                "/v1/traces/{id}", "/v1/demo-images")), doc.getMap("paths").keySet().toString());
        Map<String, Map<String, Object>> schemas = doc.getMap("components.schemas");
        assertTrue(schemas.keySet().containsAll(List.of("AnswerRequest", "AnswerOptions", "AnswerResponse", "ReportHit", "KnowledgeHit",
                "Evidence", "AnswerSegment", "Feedback", "Trace", "Problem", "Modality", "Task", "Corpus")), schemas.keySet().toString());
        List<String> undescribed = new ArrayList<>();
        schemas.forEach((name, schema) -> {
            @SuppressWarnings("unchecked")
            Map<String, Map<String, Object>> props = (Map<String, Map<String, Object>>) schema.getOrDefault("properties", Map.of());
            props.forEach((field, p) -> {
                String d = String.valueOf(p.get("description"));
                if (d.equals("null") || d.isBlank() || d.contains("no comment in the .proto")) {
                    undescribed.add(name + "." + field);
                }
            });
        });
        assertEquals(List.of(), undescribed, "every field described");
        assertEquals("#/components/schemas/AnswerResponse",
                doc.getString("paths.'/v1/answer'.post.responses.'200'.content.'application/json'.schema.$ref"));
        assertTrue(doc.getString("components.schemas.AnswerOptions.properties.temperature.description").contains("0..2"));
    }

    /** Server-Sent Events as [name, data] pairs. */
    static List<String[]> events(String stream) {
        List<String[]> out = new ArrayList<>();
        for (String block : stream.replace("\r\n", "\n").split("\n\n")) {
            String name = null;
            StringBuilder data = new StringBuilder();
            for (String line : block.split("\n")) {
                if (line.startsWith("event:")) {
                    name = line.substring(6).strip();
                } else if (line.startsWith("data:")) {
                    data.append(line.substring(5).replaceFirst("^ ", ""));
                }
            }
            if (name != null) {
                out.add(new String[] {name, data.toString()});
            }
        }
        return out;
    }

    static void problem(Response r, int status, String detail, String grpcStatus) {
        r.then().statusCode(status).contentType(ProtoJson.PROBLEM_JSON).body("status", equalTo(status))
                .body("detail", containsString(detail)).body("grpc_status", equalTo(grpcStatus));
    }
}
