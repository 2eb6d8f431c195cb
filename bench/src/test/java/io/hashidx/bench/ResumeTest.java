package io.hashidx.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.EnumSet;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ResumeTest {
    @TempDir
    Path dir;

    @Test
    void aRunIsDoneWhenItsLastLineIsOk() throws Exception {
        Files.writeString(dir.resolve("runs.jsonl"), """
                {"run":"hashidx-getHit","ok":true,"seconds":50}
                {"run":"lmdb-getHit","ok":false,"seconds":5,"error":"x"}
                {"run":"mapdb-getHit","ok":true,"seconds":50}
                {"run":"mapdb-getHit","ok":false,"seconds":5}
                {"run":"lmdb-getHit","ok":true,"seconds":50}
                """);
        assertThat(Resume.okRuns(dir)).containsExactlyInAnyOrder("hashidx-getHit", "lmdb-getHit");
    }

    @Test
    void noRunsFileMeansNothingDone() {
        assertThat(Resume.okRuns(dir)).isEmpty();
    }

    @Test
    void dropsOnlyTheMetricsOfTheRunsToRunAgain() throws Exception {
        Files.writeString(dir.resolve("metrics.jsonl"), """
                {"kind":"put-latency","peer":"hashidx","run":"hashidx-insertFromEmptyLatency","iteration":1}
                {"kind":"bytes-on-disk","peer":"hashidx","run":"hashidx-bulkLoadPresized"}
                {"kind":"put-latency","peer":"mapdb","run":"mapdb-insertFromEmptyLatency","iteration":2}
                {"kind":"open-file","peer":"lmdb"}
                """);
        List<Suite.Run> todo = Suite.plan(Profile.FULL, EnumSet.of(Peer.MAPDB, Peer.HASHIDX), EnumSet.of(Workload.INSERT_LATENCY))
                .stream().filter(r -> r.peer() == Peer.MAPDB).toList();
        Resume.dropMetricsOf(dir, todo);
        assertThat(Files.readAllLines(dir.resolve("metrics.jsonl")))
                .hasSize(3)
                .noneMatch(l -> l.contains("mapdb-insertFromEmptyLatency"))
                .anyMatch(l -> l.contains("hashidx-insertFromEmptyLatency"))
                .anyMatch(l -> l.contains("open-file"));
    }

    @Test
    void refusesAnotherProfileAndKeepsNumbersWhole() throws Exception {
        Files.writeString(dir.resolve("run.json"), """
                {"profile": {"name": "full", "entries": 10000000, "forks": 3}, "elapsed_seconds": 12.5}
                """);
        Resume.checkSameProfile(dir, Profile.FULL);
        assertThatThrownBy(() -> Resume.checkSameProfile(dir, Profile.QUICK)).hasMessageContaining("cannot resume");
        assertThatThrownBy(() -> Resume.checkSameProfile(dir, Profile.FULL.withEntries(1_000_000)))
                .hasMessageContaining("cannot resume");
        var info = Resume.runInfo(dir);
        Suite.writeJson(dir.resolve("again.json"), info);
        assertThat(Files.readString(dir.resolve("again.json"))).contains("10000000").doesNotContain("1.0E7");
    }

    @Test
    void aDirectoryWithoutRunJsonCannotBeResumed() {
        assertThatThrownBy(() -> Resume.checkSameProfile(dir, Profile.FULL)).hasMessageContaining("run.json");
    }
}
