package io.hashidx.store;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Kills (SIGKILL) a child JVM ({@link ReserveWorkload}) again and again while a growth by 2^k that
 * {@link HashIndex#reserve} started is evacuated by its puts: once as soon as it opened the file (the
 * kill races the file extension and the header update that starts the growth), once right after
 * the reserve returned, then after a seeded random number of acknowledged puts. After every kill the
 * file, opened read-only as the kill left it, holds every acknowledged put, an exact size, and
 * verifies clean (but for a header copy the kill tore); the next child carries the growth on.
 */
class ReserveKillNineTest {
    private static final long INITIAL = 3000;
    private static final long RESERVE = 40 * INITIAL;
    private static final int KILLS = 10;

    @TempDir
    Path dir;

    @Test
    void killNineAtAnyPointOfAGrowthBy2ToTheKLosesNoAcknowledgedPut() throws Exception {
        long seed = Long.getLong("hashidx.test.seed", 20261126L);
        System.out.println("ReserveKillNineTest seed " + seed);
        SplittableRandom rnd = new SplittableRandom(seed);
        Path path = dir.resolve("reserve.hidx");
        long acknowledged = INITIAL; // keys 0 .. acknowledged - 1 are acknowledged
        boolean sawGrowing = false;
        for (int kill = 0; kill < KILLS; kill++) {
            String context = "seed " + seed + ", kill " + kill;
            String after = kill == 0 ? "OPENED" : kill == 1 ? "RESERVED" : "ACK";
            int acks = kill < 2 ? 0 : rnd.nextInt(1, 60);
            long lastAck = runAndKill(path, after, acks, context);
            if (lastAck >= 0) {
                acknowledged = lastAck + 1;
            }
            try (HashIndex ro = HashIndex.openReadOnly(path)) {
                sawGrowing |= ro.table().h.growing() && ro.table().h.growthShift() > 1;
                List<String> problems = new ArrayList<>(ro.verify());
                problems.removeIf(p -> p.startsWith("header copy"));
                assertThat(problems).as("%s: verify", context).isEmpty();
                assertThat(ro.size()).as("%s: size (the put in flight may or may not be there)", context)
                        .isBetween(acknowledged, acknowledged + 1);
                for (long i = 0; i < ro.size(); i++) {
                    assertThat(ro.get(Fixtures.key16(i))).as("%s: key %d", context, i).isEqualTo(Fixtures.value16(i, 0));
                }
                acknowledged = ro.size();
            }
        }
        assertThat(sawGrowing).as("seed %d: some kill came in the middle of the growth by 2^k", seed).isTrue();
        try (HashIndex idx = HashIndex.open(path)) {
            idx.finishGrowth();
            Header h = idx.table().h;
            assertThat(h.bucketCount).as("one growth to 2^6 times 512 buckets").isEqualTo(512L << 6);
            assertThat(h.doublings).isEqualTo(9 + 6);
            assertThat(idx.verify()).isEmpty();
            Fixtures.assertNoLeakedCells(idx, "seed " + seed + ", after the growth");
            assertThat(idx.size()).isEqualTo(acknowledged);
        }
    }

    /** Runs a child until it printed {@code after} (and then {@code acks} acknowledgements), kills it; returns its last ack or -1. */
    private long runAndKill(Path path, String after, int acks, String context) throws Exception {
        Path stderr = dir.resolve("child-stderr.txt");
        List<String> command = List.of(ChildJvm.java(), "-Xmx64m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1",
                "-cp", ChildJvm.classPath(ReserveWorkload.class), ReserveWorkload.class.getName(), path.toString(),
                Long.toString(INITIAL), Long.toString(RESERVE));
        Process child = new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.to(stderr.toFile())).start();
        long lastAck = -1;
        boolean reached = false;
        try (BufferedReader out = new BufferedReader(new InputStreamReader(child.getInputStream(), StandardCharsets.US_ASCII))) {
            int seen = 0;
            for (String line; (line = out.readLine()) != null; ) {
                if (line.startsWith("ACK ")) {
                    lastAck = Long.parseLong(line.substring(4));
                    seen++;
                }
                if (line.startsWith(after) && seen >= acks) {
                    reached = true;
                    break;
                }
            }
            child.toHandle().destroyForcibly(); // SIGKILL on Linux
            // acknowledgements printed before the kill landed count too
            for (String line; (line = out.readLine()) != null; ) {
                if (line.startsWith("ACK ")) {
                    lastAck = Long.parseLong(line.substring(4));
                }
            }
        } finally {
            child.destroyForcibly();
            assertThat(child.waitFor(60, TimeUnit.SECONDS)).as("child died").isTrue();
        }
        assertThat(reached).as("%s: child printed %s; stderr: %s", context, after, Files.readString(stderr)).isTrue();
        Files.delete(stderr);
        return lastAck;
    }
}
