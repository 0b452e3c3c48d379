package io.heterorag.retrieval.ingest;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import io.heterorag.model.image.PerceptualHash;

/**
 * Perceptual hashes of one report repository, for near-duplicate lookups without a scan: the 64 bits
 * are cut into maxDistance + 1 bands, and two hashes within maxDistance bits agree on at least one
 * band (pigeonhole), so only hashes sharing a band are compared.
 */
final class NearDuplicateIndex {

    record Match(String id, int distance) {
    }

    private final int maxDistance;
    private final int bands;
    private final Map<String, Long> byId = new HashMap<>();
    private final Map<Long, List<String>> buckets = new HashMap<>();

    NearDuplicateIndex(int maxDistance) {
        if (maxDistance < 0 || maxDistance > 7) {
            throw new IllegalArgumentException("near-duplicate distance must be within 0..7 bits, not " + maxDistance);
        }
        this.maxDistance = maxDistance;
        this.bands = maxDistance + 1;
    }

    /** The closest stored hash within maxDistance of hash, other than id's own; null if none. */
    Match find(String id, long hash) {
        Match best = null;
        for (int b = 0; b < bands; b++) {
            for (String other : buckets.getOrDefault(bucket(b, hash), List.of())) {
                Long h = byId.get(other);
                if (other.equals(id) || h == null || bucket(b, h) != bucket(b, hash)) {
                    continue; // stale: the entry was re-ingested with another image
                }
                int d = PerceptualHash.distance(h, hash);
                if (d <= maxDistance && (best == null || d < best.distance())) {
                    best = new Match(other, d);
                }
            }
        }
        return best;
    }

    void add(String id, long hash) {
        byId.put(id, hash);
        for (int b = 0; b < bands; b++) {
            buckets.computeIfAbsent(bucket(b, hash), k -> new ArrayList<>()).add(id);
        }
    }

    int size() {
        return byId.size();
    }

    /** Band b of the hash, tagged with b so equal bits in different bands do not collide. */
    private long bucket(int b, long hash) {
        int from = b * 64 / bands;
        int to = (b + 1) * 64 / bands;
        long mask = to - from == 64 ? -1L : ((1L << (to - from)) - 1) << from;
        return ((long) b << 58) ^ ((hash & mask) >>> from);
    }
}
