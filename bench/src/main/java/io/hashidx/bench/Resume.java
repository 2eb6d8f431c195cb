package io.hashidx.bench;

import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import com.google.gson.ToNumberPolicy;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import com.google.gson.reflect.TypeToken;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collection;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * {@code Suite ... --resume}: continue an unfinished run in its own results directory, so that a
 * profile longer than one session can be run in two. A run is done when its last line in
 * {@code runs.jsonl} says ok (a run cut off by the end of a session wrote no line); the others run
 * again, after the metrics lines their earlier attempt left in {@code metrics.jsonl} are dropped (each
 * line names its run, {@link Metrics#RUN_PROPERTY}), so no figure of a partial attempt is merged.
 */
final class Resume {
    private Resume() {
    }

    /** Ids of the runs whose last line in {@code dir/runs.jsonl} is ok. */
    static Set<String> okRuns(Path dir) {
        Map<String, Boolean> last = new LinkedHashMap<>();
        for (JsonObject line : lines(dir.resolve("runs.jsonl"))) {
            last.put(line.get("run").getAsString(), line.has("ok") && line.get("ok").getAsBoolean());
        }
        return last.entrySet().stream().filter(Map.Entry::getValue).map(Map.Entry::getKey).collect(Collectors.toSet());
    }

    /** Refuses to resume a directory of another profile or entry count. */
    static void checkSameProfile(Path dir, Profile profile) {
        Map<String, Object> run = runInfo(dir);
        if (!(run.get("profile") instanceof Map<?, ?> p)) {
            throw new IllegalArgumentException(dir + "/run.json has no profile: not a results directory to resume");
        }
        Object name = p.get("name");
        Object entries = p.get("entries");
        if (!profile.name().equals(name) || !(entries instanceof Number n) || n.longValue() != profile.entries()) {
            throw new IllegalArgumentException("cannot resume " + dir + ": it is a " + name + " run of " + entries
                    + " entries, not " + profile.name() + " of " + profile.entries());
        }
    }

    /** The run.json of {@code dir}, to be updated. */
    static Map<String, Object> runInfo(Path dir) {
        Path file = dir.resolve("run.json");
        if (!Files.exists(file)) {
            throw new IllegalArgumentException(file + " is missing: not a results directory to resume");
        }
        try {
            // numbers as Long where they are whole, so that run.json is written back as it was read
            Gson gson = new GsonBuilder().setObjectToNumberStrategy(ToNumberPolicy.LONG_OR_DOUBLE).create();
            return gson.fromJson(Files.readString(file, StandardCharsets.UTF_8),
                    new TypeToken<LinkedHashMap<String, Object>>() { }.getType());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Drops from {@code dir/metrics.jsonl} the lines written by earlier attempts of {@code runs}. */
    static void dropMetricsOf(Path dir, Collection<Suite.Run> runs) {
        Path file = dir.resolve("metrics.jsonl");
        if (!Files.exists(file)) {
            return;
        }
        Set<String> ids = new HashSet<>();
        runs.forEach(r -> ids.add(r.id()));
        try {
            List<String> all = Files.readAllLines(file, StandardCharsets.UTF_8);
            List<String> kept = all.stream().filter(l -> {
                if (l.isBlank()) {
                    return false;
                }
                JsonObject o = JsonParser.parseString(l).getAsJsonObject();
                return !o.has("run") || !ids.contains(o.get("run").getAsString());
            }).toList();
            if (kept.size() != all.size()) {
                Files.write(file, kept, StandardCharsets.UTF_8);
                System.out.printf("# dropped %d metrics lines of unfinished runs%n", all.size() - kept.size());
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static List<JsonObject> lines(Path file) {
        if (!Files.exists(file)) {
            return List.of();
        }
        try {
            return Files.readAllLines(file, StandardCharsets.UTF_8).stream().filter(l -> !l.isBlank())
                    .map(l -> JsonParser.parseString(l).getAsJsonObject()).toList();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
