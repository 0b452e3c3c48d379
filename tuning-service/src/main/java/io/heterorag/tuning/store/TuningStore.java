package io.heterorag.tuning.store;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.SQLIntegrityConstraintViolationException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

import javax.sql.DataSource;

import jakarta.inject.Singleton;

import com.google.protobuf.InvalidProtocolBufferException;
import io.heterorag.proto.v1.Feedback;
import io.heterorag.proto.v1.Job;
import io.heterorag.proto.v1.Modality;
import io.heterorag.proto.v1.ModelAnnouncement;
import io.heterorag.proto.v1.PreferencePair;
import io.heterorag.proto.v1.Trace;
import io.quarkus.runtime.Startup;

/**
 * Durable store of traces and feedback (H2 on disk by default; any JDBC database in production).
 * Rows are keyed by trace id / feedback id, so a re-delivered message is stored once.
 */
@Singleton
@Startup
public class TuningStore {

    private final DataSource db;

    public TuningStore(DataSource db) {
        this.db = db;
        try (Connection c = db.getConnection(); Statement s = c.createStatement()) {
            s.execute("CREATE TABLE IF NOT EXISTS traces (trace_id VARCHAR(64) PRIMARY KEY, created_at_ms BIGINT NOT NULL, "
                    + "payload VARBINARY(16777216) NOT NULL)");
            s.execute("CREATE INDEX IF NOT EXISTS traces_created ON traces(created_at_ms)");
            s.execute("CREATE TABLE IF NOT EXISTS feedback (feedback_id VARCHAR(128) PRIMARY KEY, trace_id VARCHAR(64) NOT NULL, "
                    + "created_at_ms BIGINT NOT NULL, payload VARBINARY(1048576) NOT NULL)");
            s.execute("CREATE INDEX IF NOT EXISTS feedback_trace ON feedback(trace_id)");
            s.execute("CREATE TABLE IF NOT EXISTS jobs (job_id VARCHAR(64) PRIMARY KEY, created_at_ms BIGINT NOT NULL, "
                    + "payload VARBINARY(1048576) NOT NULL)");
            s.execute("CREATE TABLE IF NOT EXISTS models (model_id VARCHAR(256) PRIMARY KEY, modality INT NOT NULL, "
                    + "created_at_ms BIGINT NOT NULL, payload VARBINARY(1048576) NOT NULL)");
            s.execute("CREATE TABLE IF NOT EXISTS preference_pairs (pair_id VARCHAR(256) PRIMARY KEY, kind VARCHAR(64) NOT NULL, "
                    + "created_at_ms BIGINT NOT NULL, payload VARBINARY(16777216) NOT NULL)");
            s.execute("CREATE INDEX IF NOT EXISTS preference_pairs_kind ON preference_pairs(kind, created_at_ms)");
        } catch (SQLException e) {
            throw new IllegalStateException("tuning store cannot be initialised: " + e.getMessage(), e);
        }
    }

    /** True when stored, false when a trace with this id was already there. */
    public boolean addTrace(Trace t) {
        return insert("INSERT INTO traces (trace_id, created_at_ms, payload) VALUES (?, ?, ?)",
                t.getTraceId(), null, t.getCreatedAtMs(), t.toByteArray());
    }

    /** True when stored, false when feedback with this id was already there. */
    public boolean addFeedback(Feedback f) {
        return insert("INSERT INTO feedback (feedback_id, trace_id, created_at_ms, payload) VALUES (?, ?, ?, ?)",
                f.getFeedbackId(), f.getTraceId(), f.getCreatedAtMs(), f.toByteArray());
    }

    /** Inserts id, [second column], created_at_ms, payload; false when the id is already there. */
    private boolean insert(String sql, String id, String second, long createdAt, byte[] payload) {
        try (Connection c = db.getConnection(); PreparedStatement ps = c.prepareStatement(sql)) {
            int i = 1;
            ps.setString(i++, id);
            if (second != null) {
                ps.setString(i++, second);
            }
            ps.setLong(i++, createdAt);
            ps.setBytes(i, payload);
            ps.executeUpdate();
            return true;
        } catch (SQLIntegrityConstraintViolationException duplicate) {
            return false;
        } catch (SQLException e) {
            throw new IllegalStateException("tuning store write failed: " + e.getMessage(), e);
        }
    }

    /** Inserts or replaces the job's record. */
    public void putJob(Job job) {
        try (Connection c = db.getConnection();
                PreparedStatement ps = c.prepareStatement("MERGE INTO jobs (job_id, created_at_ms, payload) KEY (job_id) VALUES (?, ?, ?)")) {
            ps.setString(1, job.getJobId());
            ps.setLong(2, job.getCreatedAtMs());
            ps.setBytes(3, job.toByteArray());
            ps.executeUpdate();
        } catch (SQLException e) {
            throw new IllegalStateException("tuning store write failed: " + e.getMessage(), e);
        }
    }

    public Optional<Job> job(String id) {
        return query("SELECT payload FROM jobs WHERE job_id = ?", ps -> ps.setString(1, id)).stream()
                .map(r -> parse(() -> Job.parseFrom(r))).findFirst();
    }

    public List<Job> jobs(int limit) {
        return query("SELECT payload FROM jobs ORDER BY created_at_ms DESC, job_id LIMIT ?", ps -> ps.setInt(1, limit)).stream()
                .map(r -> parse(() -> Job.parseFrom(r))).toList();
    }

    /** Registers a promoted model; false when that name@version is already registered. */
    public boolean addModel(ModelAnnouncement m, long createdAtMs) {
        return insert("INSERT INTO models (model_id, modality, created_at_ms, payload) VALUES (?, ?, ?, ?)",
                m.getName() + "@" + m.getVersion(), String.valueOf(m.getModalityValue()), createdAtMs, m.toByteArray());
    }

    /** Registered models, newest first; modality UNSPECIFIED: all. */
    public List<ModelAnnouncement> models(Modality modality) {
        boolean all = modality == Modality.MODALITY_UNSPECIFIED;
        return query(all ? "SELECT payload FROM models ORDER BY created_at_ms DESC"
                : "SELECT payload FROM models WHERE modality = ? ORDER BY created_at_ms DESC", ps -> {
                    if (!all) {
                        ps.setInt(1, modality.getNumber());
                    }
                }).stream().map(r -> parse(() -> ModelAnnouncement.parseFrom(r))).toList();
    }

    /**
     * Stores a preference pair, replacing one with the same id (a pair re-built from the same example
     * and generator). Plain UPDATE-then-INSERT, so the SQL is not tied to H2.
     */
    public void putPair(PreferencePair p) {
        try (Connection c = db.getConnection()) {
            try (PreparedStatement up = c.prepareStatement(
                    "UPDATE preference_pairs SET kind = ?, created_at_ms = ?, payload = ? WHERE pair_id = ?")) {
                up.setString(1, p.getKind());
                up.setLong(2, p.getCreatedAtMs());
                up.setBytes(3, p.toByteArray());
                up.setString(4, p.getPairId());
                if (up.executeUpdate() > 0) {
                    return;
                }
            }
            try (PreparedStatement in = c.prepareStatement(
                    "INSERT INTO preference_pairs (pair_id, kind, created_at_ms, payload) VALUES (?, ?, ?, ?)")) {
                in.setString(1, p.getPairId());
                in.setString(2, p.getKind());
                in.setLong(3, p.getCreatedAtMs());
                in.setBytes(4, p.toByteArray());
                in.executeUpdate();
            }
        } catch (SQLException e) {
            throw new IllegalStateException("tuning store write failed: " + e.getMessage(), e);
        }
    }

    /** Where a page of pairs ends: the last pair's creation time and id (pairs are ordered newest first, then by id). */
    public record PairCursor(long createdAtMs, String pairId) {
    }

    /**
     * Pairs newest first (ties by id), of one kind (empty: all), after the cursor (null: from the
     * start); keyset paging, so pairs stored meanwhile do not shift later pages.
     */
    public List<PreferencePair> pairs(String kind, PairCursor after, int limit) {
        StringBuilder sql = new StringBuilder("SELECT payload FROM preference_pairs WHERE 1 = 1");
        if (!kind.isEmpty()) {
            sql.append(" AND kind = ?");
        }
        if (after != null) {
            sql.append(" AND (created_at_ms < ? OR (created_at_ms = ? AND pair_id > ?))");
        }
        sql.append(" ORDER BY created_at_ms DESC, pair_id LIMIT ?");
        return query(sql.toString(), ps -> {
            int i = 1;
            if (!kind.isEmpty()) {
                ps.setString(i++, kind);
            }
            if (after != null) {
                ps.setLong(i++, after.createdAtMs());
                ps.setLong(i++, after.createdAtMs());
                ps.setString(i++, after.pairId());
            }
            ps.setInt(i, limit);
        }).stream().map(r -> parse(() -> PreferencePair.parseFrom(r))).toList();
    }

    /** Number of stored pairs of a kind (empty: all). */
    public long countPairs(String kind) {
        String sql = kind.isEmpty() ? "SELECT COUNT(*) FROM preference_pairs" : "SELECT COUNT(*) FROM preference_pairs WHERE kind = ?";
        try (Connection c = db.getConnection(); PreparedStatement ps = c.prepareStatement(sql)) {
            if (!kind.isEmpty()) {
                ps.setString(1, kind);
            }
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getLong(1);
            }
        } catch (SQLException e) {
            throw new IllegalStateException("tuning store read failed: " + e.getMessage(), e);
        }
    }

    public Optional<Trace> trace(String id) {
        List<Trace> found = traces("SELECT payload FROM traces WHERE trace_id = ?", ps -> ps.setString(1, id));
        return found.stream().findFirst();
    }

    /** Newest first, created before beforeMs (0: no bound). */
    public List<Trace> traces(int limit, long beforeMs) {
        return traces("SELECT payload FROM traces WHERE created_at_ms < ? ORDER BY created_at_ms DESC, trace_id LIMIT ?", ps -> {
            ps.setLong(1, beforeMs > 0 ? beforeMs : Long.MAX_VALUE);
            ps.setInt(2, limit);
        });
    }

    public List<Feedback> feedback(String traceId, int limit) {
        boolean all = traceId.isEmpty();
        List<byte[]> rows = query(all ? "SELECT payload FROM feedback ORDER BY created_at_ms DESC, feedback_id LIMIT ?"
                : "SELECT payload FROM feedback WHERE trace_id = ? ORDER BY created_at_ms DESC, feedback_id LIMIT ?", ps -> {
                    if (all) {
                        ps.setInt(1, limit);
                    } else {
                        ps.setString(1, traceId);
                        ps.setInt(2, limit);
                    }
                });
        List<Feedback> out = new ArrayList<>();
        for (byte[] r : rows) {
            out.add(parse(() -> Feedback.parseFrom(r)));
        }
        return out;
    }

    public long count(String table) {
        if (!table.equals("traces") && !table.equals("feedback")) {
            throw new IllegalArgumentException("no table " + table);
        }
        try (Connection c = db.getConnection(); Statement s = c.createStatement();
                ResultSet rs = s.executeQuery("SELECT COUNT(*) FROM " + table)) {
            rs.next();
            return rs.getLong(1);
        } catch (SQLException e) {
            throw new IllegalStateException("tuning store read failed: " + e.getMessage(), e);
        }
    }

    private List<Trace> traces(String sql, Binder binder) {
        List<Trace> out = new ArrayList<>();
        for (byte[] r : query(sql, binder)) {
            out.add(parse(() -> Trace.parseFrom(r)));
        }
        return out;
    }

    private interface Binder {
        void bind(PreparedStatement ps) throws SQLException;
    }

    private interface Parser<T> {
        T parse() throws InvalidProtocolBufferException;
    }

    private static <T> T parse(Parser<T> p) {
        try {
            return p.parse();
        } catch (InvalidProtocolBufferException e) {
            throw new IllegalStateException("stored row is not a valid message: " + e.getMessage(), e);
        }
    }

    private List<byte[]> query(String sql, Binder binder) {
        try (Connection c = db.getConnection(); PreparedStatement ps = c.prepareStatement(sql)) {
            binder.bind(ps);
            List<byte[]> out = new ArrayList<>();
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    out.add(rs.getBytes(1));
                }
            }
            return out;
        } catch (SQLException e) {
            throw new IllegalStateException("tuning store read failed: " + e.getMessage(), e);
        }
    }
}
