package io.heterorag.tuning.preference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.heterorag.proto.v1.PreferencePair;
import io.heterorag.tuning.store.TuningStore.PairCursor;
import org.junit.jupiter.api.Test;

/** Page tokens: URL-safe base64 without padding of "created:id", read back to the same cursor; foreign tokens refused. */
class PairPagesTest {

    @Test
    void aTokenIsTheLastPairsTimeAndIdAndReadsBackToThem() {
        // the id holds ':' and '?' (base64 '_' in the URL-safe alphabet, where the standard one has '/')
        PreferencePair last = PreferencePair.newBuilder().setCreatedAtMs(1_700_000_000_123L).setPairId("knowledge_use:6f0c?x").build();
        String token = PairPages.token(last);
        assertEquals("MTcwMDAwMDAwMDEyMzprbm93bGVkZ2VfdXNlOjZmMGM_eA", token, "base64url of 1700000000123:knowledge_use:6f0c?x, no '=' padding");
        assertEquals(new PairCursor(1_700_000_000_123L, "knowledge_use:6f0c?x"), PairPages.cursor(token), "split at the first ':'");
    }

    @Test
    void anEmptyTokenIsTheFirstPage() {
        assertNull(PairPages.cursor(""));
    }

    @Test
    void aTokenThisServiceDidNotWriteIsRefused() {
        for (String foreign : new String[] {"not*base64", "bm9jb2xvbg" /* "nocolon" */, "YWJjOmlk" /* "abc:id" */}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> PairPages.cursor(foreign), foreign);
            assertEquals("page_token is not a token of this service", e.getMessage());
        }
    }
}
