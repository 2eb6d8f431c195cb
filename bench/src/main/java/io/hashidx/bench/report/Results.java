package io.hashidx.bench.report;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import io.hashidx.bench.Peer;
import io.hashidx.bench.Workload;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * One run's results directory, read back: {@code run.json}, {@code runs.jsonl}, JMH's
 * {@code jmh/*.json} and the benchmarks' own {@code metrics.jsonl}.
 */
final class Results {
    final Path dir;
    final JsonObject run;
    /** The last line of {@code runs.jsonl} for each run (a resumed run may have an earlier, failed attempt). */
    final List<JsonObject> runs;
    /** Every line of {@code runs.jsonl}: each attempt of each run. */
    final List<JsonObject> runLines;
    final List<Score> scores;
    final List<JsonObject> metrics;

    /** One JMH result: a workload (and variant) on a peer. */
    record Score(Peer peer, Workload workload, String variant, double score, double error, String unit,
                 int samples, int forks, Map<String, String> params, List<String> jvmArgs, String jdkVersion,
                 String vmName, String vmVersion) {
        int entries() {
            return Integer.parseInt(params.getOrDefault("entries", "0"));
        }
    }

    Results(Path dir) {
        this.dir = dir;
        this.run = Files.exists(dir.resolve("run.json")) ? parse(read(dir.resolve("run.json"))).getAsJsonObject() : new JsonObject();
        this.runLines = lines(dir.resolve("runs.jsonl"));
        Map<String, JsonObject> last = new LinkedHashMap<>();
        for (JsonObject line : runLines) {
            String id = line.has("run") ? line.get("run").getAsString() : Integer.toString(last.size());
            last.remove(id);
            last.put(id, line);
        }
        this.runs = List.copyOf(last.values());
        this.metrics = lines(dir.resolve("metrics.jsonl"));
        this.scores = new ArrayList<>();
        Path jmh = dir.resolve("jmh");
        if (Files.isDirectory(jmh)) {
            try (Stream<Path> files = Files.list(jmh)) {
                for (Path f : files.filter(p -> p.toString().endsWith(".json")).sorted().toList()) {
                    String text = read(f).trim();
                    if (text.isEmpty()) {
                        continue;
                    }
                    for (JsonElement e : parse(text).getAsJsonArray()) {
                        scores.add(score(e.getAsJsonObject()));
                    }
                }
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    }

    private static Score score(JsonObject o) {
        String benchmark = o.get("benchmark").getAsString();
        Peer peer = Peer.ofBenchmark(benchmark);
        Workload workload = Workload.byMethod(benchmark.substring(benchmark.lastIndexOf('.') + 1));
        Map<String, String> params = new LinkedHashMap<>();
        if (o.has("params")) {
            o.getAsJsonObject("params").entrySet().forEach(e -> params.put(e.getKey(), e.getValue().getAsString()));
        }
        String variant = switch (workload) {
            case OPEN -> !params.getOrDefault("openEntries", "0").equals("0") ? "big" : "";
            case COLD_GET -> params.getOrDefault("advice", "none").equals("none") ? "" : params.get("advice");
            default -> "";
        };
        JsonObject pm = o.getAsJsonObject("primaryMetric");
        int samples = 0;
        for (JsonElement fork : pm.getAsJsonArray("rawData")) {
            samples += fork.getAsJsonArray().size();
        }
        List<String> jvmArgs = new ArrayList<>();
        for (JsonElement a : o.getAsJsonArray("jvmArgs")) {
            jvmArgs.add(a.getAsString());
        }
        return new Score(peer, workload, variant, pm.get("score").getAsDouble(), number(pm.get("scoreError")),
                pm.get("scoreUnit").getAsString(), samples, o.get("forks").getAsInt(), params, jvmArgs,
                string(o, "jdkVersion"), string(o, "vmName"), string(o, "vmVersion"));
    }

    private static double number(JsonElement e) {
        if (e == null || e.isJsonNull()) {
            return Double.NaN;
        }
        String s = e.getAsString();
        return s.equals("NaN") ? Double.NaN : Double.parseDouble(s);
    }

    private static String string(JsonObject o, String key) {
        return o.has(key) && !o.get(key).isJsonNull() ? o.get(key).getAsString() : "";
    }

    Optional<Score> score(Peer peer, Workload workload, String variant) {
        return scores.stream().filter(s -> s.peer() == peer && s.workload() == workload && s.variant().equals(variant)).findFirst();
    }

    List<JsonObject> metrics(String kind) {
        return metrics.stream().filter(m -> m.get("kind").getAsString().equals(kind)).toList();
    }

    String runString(String key) {
        return run.has(key) && !run.get(key).isJsonNull() ? run.get(key).getAsString() : "";
    }

    JsonObject profile() {
        return run.has("profile") ? run.getAsJsonObject("profile") : new JsonObject();
    }

    static String read(Path p) {
        try {
            return Files.readString(p, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static JsonElement parse(String s) {
        return JsonParser.parseString(s);
    }

    private static List<JsonObject> lines(Path p) {
        if (!Files.exists(p)) {
            return List.of();
        }
        List<JsonObject> out = new ArrayList<>();
        for (String line : read(p).split("\n")) {
            if (!line.isBlank()) {
                out.add(parse(line).getAsJsonObject());
            }
        }
        return out;
    }

    static JsonArray array(JsonObject o, String key) {
        return o.has(key) ? o.getAsJsonArray(key) : new JsonArray();
    }
}
