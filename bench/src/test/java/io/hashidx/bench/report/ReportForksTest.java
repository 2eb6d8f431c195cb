package io.hashidx.bench.report;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.stream.Collectors;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The report states each run's forks and judges no goal from a run of fewer than 3 forks. */
class ReportForksTest {
    @TempDir
    Path dir;

    @BeforeAll
    static void headless() {
        System.setProperty("java.awt.headless", "true");
    }

    @Test
    void goalVerdictNeedsThreeForks() {
        assertThat(Report.goalVerdict("**met**", 3)).isEqualTo("**met**");
        assertThat(Report.goalVerdict("missed", 5)).isEqualTo("missed");
        assertThat(Report.goalVerdict("**met**", 1)).isEqualTo("not judged: 1 fork, a goal needs ≥ 3 (this run alone: met)");
        assertThat(Report.goalVerdict("undecided at the error bound", 2)).startsWith("not judged: 2 forks");
        assertThat(Report.goalVerdict("**met**", 0)).startsWith("not judged: no JMH result");
    }

    @Test
    void reportStatesForksAndJudgesOnlyThreeForkRuns() throws Exception {
        Path res = dir.resolve("res");
        Files.createDirectories(res.resolve("jmh"));
        Files.writeString(res.resolve("run.json"), """
                {"profile": {"name": "full", "entries": 10000000, "forks": 3}, "label": "", "estimated_seconds": 100}
                """);
        Files.writeString(res.resolve("runs.jsonl"), """
                {"run":"hashidx-getHit","ok":true,"seconds":59,"estimated_seconds":59}
                {"run":"chroniclemap-getHit","ok":true,"seconds":83,"estimated_seconds":83}
                {"run":"lmdb-getHit","ok":false,"seconds":5,"estimated_seconds":59,"error":"cut off"}
                {"run":"lmdb-getHit","ok":true,"seconds":20,"estimated_seconds":59}
                {"run":"mapdb-insertFromEmpty","ok":true,"seconds":203,"estimated_seconds":203}
                """);
        thrpt(res, "hashidx-getHit", "HashidxBench", 2_000_000, 10_000, 3);
        thrpt(res, "chroniclemap-getHit", "ChronicleMapBench", 1_000_000, 10_000, 3);
        // a run of 1 fork (e.g. --forks 1): a figure, but no goal verdict
        thrpt(res, "lmdb-getHit", "LmdbBench", 500_000, 5_000, 1);
        Files.writeString(res.resolve("jmh/mapdb-insertFromEmpty.json"), """
                [{"benchmark": "io.hashidx.bench.MapDbBench.insertFromEmpty", "mode": "ss", "forks": 1, "jvmArgs": [],
                  "jdkVersion": "25", "vmName": "OpenJDK 64-Bit Server VM", "vmVersion": "25",
                  "params": {"entries": "10000000"},
                  "primaryMetric": {"score": 200.0, "scoreError": "NaN", "scoreUnit": "s/op", "rawData": [[200.0]]}}]
                """);
        Path md = dir.resolve("REPORT.md");
        Report.main(new String[] {res.toString(), "--report", md.toString(), "--charts", dir.resolve("charts").toString()});
        List<String> lines = Files.readAllLines(md);

        assertThat(row(lines, "| random get hits ≥ 1.50× Chronicle Map")).contains("hashidx 3, Chronicle Map 3").endsWith("| **met** |");
        assertThat(row(lines, "| random get hits ≥ 2.00× lmdbjava")).contains("hashidx 3, lmdbjava 1")
                .contains("not judged: 1 fork, a goal needs ≥ 3 (this run alone: met");
        // the forks column of the workload's table, forks × measured iterations per fork
        assertThat(row(lines, "| lmdbjava | 500 k ")).contains("| 1 × 5 |");
        assertThat(row(lines, "| **hashidx** | 2.00 M")).contains("| 3 × 5 |");
        // (hashidx did not insert here, so MapDB's row stands alone, in bold)
        assertThat(row(lines, "| **MapDB** | 50.0 k entries/s")).contains("| 1 × 1 |");
        // the table of forks per run: goal runs in bold
        assertThat(row(lines, "| `getHit` |")).isEqualTo("| `getHit` | **3 × 5** |  |  | **3 × 5** | **1 × 5** |  |  |");
        assertThat(row(lines, "| `insertFromEmpty` |")).isEqualTo("| `insertFromEmpty` |  |  |  |  |  | 1 × 1 |  |");
        // the failed attempt of a run that later succeeded is no failure
        assertThat(String.join("\n", lines)).contains("4 JMH runs (5 attempts, over resumed sessions)").contains("none failed.");
    }

    private static String row(List<String> lines, String prefix) {
        return lines.stream().filter(l -> l.startsWith(prefix)).findFirst()
                .orElseThrow(() -> new AssertionError("no line starting with " + prefix + " in\n" + String.join("\n", lines)));
    }

    private static void thrpt(Path res, String id, String benchClass, double score, double error, int forks) throws Exception {
        double[] it = new double[5];
        Arrays.fill(it, score);
        String fork = Arrays.stream(it).mapToObj(v -> String.format(Locale.ROOT, "%.1f", v)).collect(Collectors.joining(",", "[", "]"));
        String raw = String.join(",", java.util.Collections.nCopies(forks, fork));
        String method = id.substring(id.indexOf('-') + 1);
        Files.writeString(res.resolve("jmh/" + id + ".json"), String.format(Locale.ROOT, """
                [{"benchmark": "io.hashidx.bench.%s.%s", "mode": "thrpt", "forks": %d, "jvmArgs": [],
                  "jdkVersion": "25", "vmName": "OpenJDK 64-Bit Server VM", "vmVersion": "25",
                  "params": {"entries": "10000000"},
                  "primaryMetric": {"score": %.1f, "scoreError": %.1f, "scoreUnit": "ops/s", "rawData": [%s]}}]
                """, benchClass, method, forks, score, error, raw));
    }
}
