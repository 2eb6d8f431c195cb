package io.hashidx.bench;

import com.google.gson.Gson;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Figures a benchmark measures beside JMH's score (bytes on disk, put latency histograms, page cache
 * residency), appended as JSON lines to {@code metrics.jsonl} in the run's results directory
 * ({@code HASHIDX_BENCH_OUT}, set by {@code bench/run}); printed to stdout when it is not set.
 */
public final class Metrics {
    private static final Gson GSON = new Gson();

    /** System property {@link Suite} gives each fork: the id of the run, written into every line as "run". */
    public static final String RUN_PROPERTY = "hashidx.bench.run";

    private Metrics() {
    }

    /** The results directory of the run, or null. */
    public static Path outDir() {
        String dir = System.getenv("HASHIDX_BENCH_OUT");
        return dir == null || dir.isBlank() ? null : Path.of(dir);
    }

    /** A record of {@code kind} for {@code peer}; add fields and {@link Line#write()} it. */
    public static Line line(String kind, Peer peer) {
        return new Line(kind, peer);
    }

    /** One metrics record. */
    public static final class Line {
        private final Map<String, Object> fields = new LinkedHashMap<>();

        private Line(String kind, Peer peer) {
            fields.put("kind", kind);
            fields.put("peer", peer.id());
            fields.put("pid", ProcessHandle.current().pid());
            String run = System.getProperty(RUN_PROPERTY);
            if (run != null) {
                fields.put("run", run);
            }
        }

        public Line put(String name, Object value) {
            fields.put(name, value);
            return this;
        }

        public void write() {
            String json = GSON.toJson(fields);
            Path dir = outDir();
            if (dir == null) {
                System.out.println("# metrics " + json);
                return;
            }
            synchronized (Metrics.class) {
                try {
                    Files.createDirectories(dir);
                    Files.writeString(dir.resolve("metrics.jsonl"), json + "\n", StandardCharsets.UTF_8,
                            StandardOpenOption.CREATE, StandardOpenOption.APPEND);
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            }
        }
    }
}
