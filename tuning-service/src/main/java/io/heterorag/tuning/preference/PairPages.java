package io.heterorag.tuning.preference;

import java.nio.charset.StandardCharsets;
import java.util.Base64;

import io.heterorag.proto.v1.PreferencePair;
import io.heterorag.tuning.store.TuningStore.PairCursor;

/** Page tokens of ListPreferencePairs: the last pair's creation time and id, opaque (URL-safe base64) to callers. */
public final class PairPages {

    private PairPages() {
    }

    public static String token(PreferencePair last) {
        return Base64.getUrlEncoder().withoutPadding()
                .encodeToString((last.getCreatedAtMs() + ":" + last.getPairId()).getBytes(StandardCharsets.UTF_8));
    }

    /** The cursor of a token; null for an empty token; IllegalArgumentException for one this service did not write. */
    public static PairCursor cursor(String token) {
        if (token.isEmpty()) {
            return null;
        }
        try {
            String s = new String(Base64.getUrlDecoder().decode(token), StandardCharsets.UTF_8);
            int colon = s.indexOf(':');
            return new PairCursor(Long.parseLong(s.substring(0, colon)), s.substring(colon + 1));
        } catch (IllegalArgumentException | StringIndexOutOfBoundsException e) {
            throw new IllegalArgumentException("page_token is not a token of this service");
        }
    }
}
