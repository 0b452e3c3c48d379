package io.heterorag.tuning.rest;

import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.hasItem;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import io.heterorag.localkafka.LocalKafkaBroker;
import io.heterorag.proto.v1.Feedback;
import io.heterorag.proto.v1.ListFeedbackRequest;
import io.heterorag.proto.v1.Task;
import io.heterorag.proto.v1.Trace;
import io.heterorag.proto.v1.TuningGrpc;
import io.quarkus.grpc.GrpcClient;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.http.ContentType;
import io.restassured.path.json.JsonPath;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.eclipse.microprofile.config.ConfigProvider;
import org.junit.jupiter.api.Test;

/** tuning-service's REST API: feedback stored as Tuning.SubmitFeedback stores it, traces with their feedback, clear errors. */
@QuarkusTest
class FeedbackResourceTest {

    @GrpcClient("self")
    TuningGrpc.TuningBlockingStub tuning;

    @Test
    void feedbackIsStoredAndListedWithItsTrace() throws Exception {
        String traceId = UUID.randomUUID().toString();
        Trace trace = Trace.newBuilder().setTraceId(traceId).setQuestion("What is shown?").setAnswer("a nodule").setTask(Task.OPEN_VQA)
                .setCreatedAtMs(System.currentTimeMillis()).build();
        try (KafkaProducer<String, byte[]> p = LocalKafkaBroker.producer(ConfigProvider.getConfig()
                .getValue("kafka.bootstrap.servers", String.class))) {
            p.send(new ProducerRecord<>("heterorag.traces", traceId, trace.toByteArray())).get();
        }
        long end = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (given().get("/v1/traces/" + traceId).statusCode() != 200) {
            assertTrue(System.nanoTime() < end, "trace not stored within 60 s");
            Thread.sleep(200);
        }

        String feedbackId = given().contentType(ContentType.JSON).body(Map.of("trace_id", traceId, "rating", -1,
                "correct_answer", "Pulmonary hamartoma", "comment", "the nodule has popcorn calcification"))
                .post("/v1/feedback").then().statusCode(200).contentType(ContentType.JSON).body("stored", equalTo(true))
                .extract().path("feedback_id");
        assertFalse(feedbackId.isBlank());
        // a client's own id is kept, and a second delivery is stored once
        String own = UUID.randomUUID().toString();
        String body = "{\"feedback_id\":\"" + own + "\",\"trace_id\":\"" + traceId + "\",\"rating\":1}";
        given().contentType(ContentType.JSON).body(body).post("/v1/feedback").then().statusCode(200)
                .body("feedback_id", equalTo(own)).body("stored", equalTo(true));
        given().contentType(ContentType.JSON).body(body).post("/v1/feedback").then().statusCode(200).body("stored", equalTo(false));

        // the same store the gRPC API reads
        List<Feedback> stored = tuning.listFeedback(ListFeedbackRequest.newBuilder().setTraceId(traceId).build()).getFeedbackList();
        assertEquals(2, stored.size());
        Feedback wrong = stored.stream().filter(f -> f.getFeedbackId().equals(feedbackId)).findFirst().orElseThrow();
        assertEquals(-1, wrong.getRating());
        assertEquals("Pulmonary hamartoma", wrong.getCorrectAnswer());
        assertTrue(wrong.getCreatedAtMs() > 0);

        JsonPath one = given().get("/v1/traces/" + traceId).then().statusCode(200).contentType(ContentType.JSON).extract().jsonPath();
        assertEquals("What is shown?", one.getString("trace.question"));
        assertEquals("OPEN_VQA", one.getString("trace.task"));
        assertEquals(2, one.getList("feedback").size());
        given().queryParam("page_size", 1000).get("/v1/traces").then().statusCode(200)
                .body("traces.trace.trace_id", hasItem(traceId))
                .body("traces.find { it.trace.trace_id == '" + traceId + "' }.feedback.correct_answer", hasItem("Pulmonary hamartoma"));
    }

    @Test
    void badInputIsRefusedAsProblemJsonWithTheGrpcMessage() {
        problem(given().contentType(ContentType.JSON).body("{\"rating\":1}").post("/v1/feedback"), 400, "feedback_id and trace_id are required");
        problem(given().contentType(ContentType.JSON).body("{\"trace_id\":\"t\",\"rating\":5}").post("/v1/feedback"), 400,
                "rating must be -1, 0 or 1");
        problem(given().contentType(ContentType.JSON).body("{\"trace_id\":\"t\",\"verdict\":\"wrong\"}").post("/v1/feedback"), 400,
                "not a valid JSON Feedback");
        problem(given().contentType(ContentType.JSON).body("not json").post("/v1/feedback"), 400, "not a valid JSON Feedback");
        problem(given().contentType(ContentType.JSON).body("").post("/v1/feedback"), 400, "the body is empty");
        problem(given().get("/v1/traces/no-such-trace"), 404, "no trace no-such-trace");
        problem(given().queryParam("page_size", -1).get("/v1/traces"), 400, "page_size must not be negative");
    }

    @Test
    void theOpenApiDocumentDescribesEveryFieldOfTheBodies() {
        JsonPath doc = given().queryParam("format", "json").get("/q/openapi").then().statusCode(200).extract().jsonPath();
        assertTrue(doc.getMap("paths").keySet().containsAll(List.of("/v1/feedback", "/v1/traces", "/v1/traces/{id}")));
        for (String schema : List.of("Feedback", "Trace", "SubmitFeedbackResponse", "EvidenceRef", "ModelVersions")) {
            Map<String, Map<String, Object>> props = doc.getMap("components.schemas." + schema + ".properties");
            assertFalse(props.isEmpty(), schema);
            props.forEach((name, p) -> {
                String d = String.valueOf(p.get("description"));
                assertFalse(d.isBlank() || d.equals("null") || d.contains("no comment in the .proto"), schema + "." + name + ": " + d);
            });
        }
    }

    static void problem(io.restassured.response.Response r, int status, String detail) {
        r.then().statusCode(status).contentType("application/problem+json").body("status", equalTo(status))
                .body("detail", containsString(detail)).body("grpc_status", org.hamcrest.Matchers.notNullValue());
    }
}
