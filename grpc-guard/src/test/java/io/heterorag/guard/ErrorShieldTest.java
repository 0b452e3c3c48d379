package io.heterorag.guard;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import org.junit.jupiter.api.Test;

class ErrorShieldTest {

    @Test
    void internalAndUnknownBecomeAGenericInternalErrorWithAnId() {
        for (Status leaky : List.of(Status.UNKNOWN.withDescription("stage queries: java.lang.OutOfMemoryError").withCause(new OutOfMemoryError()),
                Status.UNKNOWN, Status.INTERNAL.withDescription("retrieval failed: java.lang.NullPointerException at Foo.bar"))) {
            Status shown = ErrorShield.shield(leaky, "heterorag.v1.ClinicalRag/Answer");
            assertEquals(Status.Code.INTERNAL, shown.getCode());
            assertTrue(shown.getDescription().matches("internal error [0-9a-f]{12} \\(the service's log has the details\\)"), shown.getDescription());
            assertFalse(shown.getDescription().contains("java."));
        }
    }

    @Test
    void statusesThatSayWhatToFixAndAlreadyGenericOnesPassThrough() {
        Status invalid = Status.INVALID_ARGUMENT.withDescription("question has 9000 characters, above the limit of 8192 (k)");
        assertSame(invalid, ErrorShield.shield(invalid, "m"));
        Status downstream = Status.INTERNAL.withDescription("stage queries: internal error 0123456789ab (the service's log has the details)");
        assertSame(downstream, ErrorShield.shield(downstream, "m"), "the downstream id is kept, not replaced");
        Status unavailable = Status.UNAVAILABLE.withDescription("stage reports: io exception");
        assertSame(unavailable, ErrorShield.shield(unavailable, "m"));
    }

    @Test
    void limitsNameTheFieldTheSizeTheLimitAndTheKey() {
        StatusRuntimeException e = assertThrows(StatusRuntimeException.class, () -> InputLimits.chars("question", "abcd", 3, "k.q"));
        assertEquals(Status.Code.INVALID_ARGUMENT, e.getStatus().getCode());
        assertEquals("question has 4 characters, above the limit of 3 (k.q)", e.getStatus().getDescription());
        InputLimits.chars("question", "abc", 3, "k.q");
        e = assertThrows(StatusRuntimeException.class, () -> InputLimits.eachChars("texts", List.of("a", "bbbb"), 3, "k.t"));
        assertEquals("texts[1] has 4 characters, above the limit of 3 (k.t)", e.getStatus().getDescription());
        e = assertThrows(StatusRuntimeException.class, () -> InputLimits.count("records", 5, 4, "k.r"));
        assertEquals("records has 5 elements, above the limit of 4 (k.r)", e.getStatus().getDescription());
        e = assertThrows(StatusRuntimeException.class, () -> InputLimits.range("k", -1, 10, "k.k"));
        assertEquals("k is -1, outside 0..10 (k.k)", e.getStatus().getDescription());
        InputLimits.range("k", 10, 10, "k.k");
    }
}
