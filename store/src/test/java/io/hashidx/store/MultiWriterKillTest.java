package io.hashidx.store;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code kill -9} with several writers in flight: a child JVM runs 4 writer threads on one file (which
 * starts with one bucket and grows while they write, to about 1,200 buckets) and is killed (SIGKILL)
 * after a random number of acknowledged writes or, every other kill, at the first acknowledgement that
 * shows a growth under way (an aimed kill), again and again on the same file; every 10 kills a fresh
 * file starts, so kills keep landing in growths. After every kill the file is opened read-only
 * exactly as the kill left it, then read-write (which replays every writer lane), and each time: every
 * acknowledged write is there, each thread's write in flight is either done or not, {@code size()} is
 * exact, and {@code verify()} finds nothing (read-only, a header copy torn by the kill is allowed).
 * {@code -Dhashidx.multiwriter.kills=N} runs a longer campaign.
 */
class MultiWriterKillTest {
    private static final int THREADS = 4;
    private static final int KILLS = Integer.getInteger("hashidx.multiwriter.kills", 30);
    /** Kills of the variable-length campaign ({@code -Dhashidx.multiwriter.variableKills=N}). */
    private static final int VARIABLE_KILLS = Integer.getInteger("hashidx.multiwriter.variableKills", 20);

    @TempDir
    Path dir;

    /** What the parent knows of one key: its acknowledged value, and the write in flight on it, if any. */
    private static final class KeyState {
        int acked = -1; // serial of the acknowledged value, -1 when absent
        Integer inFlight; // serial of a write begun but not acknowledged (-1 remove), or null
    }

    @Test
    @Timeout(value = 10, unit = TimeUnit.MINUTES)
    void everyAcknowledgedWriteOfEveryThreadSurvivesAKillWithSeveralWritersInFlight() throws Exception {
        campaign(false, KILLS, Long.getLong("hashidx.test.seed", 4242));
    }

    /**
     * The same on a variable-length file whose writers take and free records (a third of the keys and
     * about half of the values go out of line): besides every acknowledged write, no record cell leaks
     * (every cell is accounted for after the read-write open), with each lane's pending record and the
     * chain record replayed as the kill left them.
     */
    @Test
    @Timeout(value = 10, unit = TimeUnit.MINUTES)
    void onAVariableLengthFileNoAcknowledgedWriteIsLostAndNoRecordCellLeaks() throws Exception {
        campaign(true, VARIABLE_KILLS, Long.getLong("hashidx.test.seed", 4343));
    }

    private void campaign(boolean variable, int kills, long seed) throws Exception {
        Path path = dir.resolve(variable ? "variable-writers.hidx" : "writers.hidx");
        Map<Long, KeyState> model = new HashMap<>();
        SplittableRandom rnd = new SplittableRandom(seed);
        int serial = 0;
        long acknowledged = 0;
        long inFlightAtKills = 0;
        long doublings = 0;
        long midGrowth = 0;
        long lastDoublings = 0;
        for (int kill = 0; kill < kills; kill++) {
            if (kill % 10 == 0) {
                java.nio.file.Files.deleteIfExists(path);
                model.clear();
            }
            int acksBeforeKill = 200 + rnd.nextInt(kill % 3 == 0 ? 20_000 : 3_000);
            Process child = new ProcessBuilder(ChildJvm.java(), "-Xmx128m", "-XX:TieredStopAtLevel=1", "-cp",
                    ChildJvm.classPath(MultiWriterWorkload.class), MultiWriterWorkload.class.getName(), path.toString(),
                    Integer.toString(THREADS), Long.toString(rnd.nextLong()), Integer.toString(serial),
                    variable ? "variable" : "fixed")
                    .redirectError(ProcessBuilder.Redirect.DISCARD).start();
            int acks = 0;
            boolean aimed = kill % 2 == 1;
            try (BufferedReader out = new BufferedReader(new InputStreamReader(child.getInputStream(), StandardCharsets.UTF_8))) {
                String line;
                while ((line = out.readLine()) != null) {
                    if (acks >= acksBeforeKill) {
                        child.toHandle().destroyForcibly(); // SIGKILL
                        acksBeforeKill = Integer.MAX_VALUE;
                    }
                    if (apply(model, line)) {
                        acks++;
                        if (aimed && acks >= 20 && line.endsWith(" 1") && acksBeforeKill != Integer.MAX_VALUE) {
                            child.toHandle().destroyForcibly(); // aimed: a growth is under way
                            acksBeforeKill = Integer.MAX_VALUE;
                        }
                    }
                }
            } finally {
                child.destroyForcibly();
                child.waitFor();
            }
            acknowledged += acks;
            serial += acks + 10 * THREADS + 1_000_000; // serials of the next child never repeat earlier ones
            for (KeyState k : model.values()) {
                if (k.inFlight != null) {
                    inFlightAtKills++;
                }
            }
            try (HashIndex ro = HashIndex.openReadOnly(path)) {
                check(ro, model, false, variable, "seed " + seed + ": read-only after kill " + kill);
                if (ro.table().h.growing()) {
                    midGrowth++;
                }
            }
            try (HashIndex rw = HashIndex.open(path)) {
                check(rw, model, true, variable, "seed " + seed + ": read-write after kill " + kill);
                if (variable) {
                    Fixtures.assertNoLeakedCells(rw, "seed " + seed + ": read-write after kill " + kill);
                }
                doublings += rw.table().h.doublings - (kill % 10 == 0 ? 0 : lastDoublings);
                lastDoublings = rw.table().h.doublings;
            }
            // what the file holds now is the truth for the next child: writes in flight are settled
            try (HashIndex ro = HashIndex.openReadOnly(path)) {
                for (Map.Entry<Long, KeyState> e : model.entrySet()) {
                    byte[] v = ro.get(keyOf(e.getKey(), variable));
                    e.getValue().acked = v == null ? -1 : serialOf(v);
                    e.getValue().inFlight = null;
                }
            }
        }
        System.out.printf("MultiWriterKillTest%s: %d kills of %d writer threads, %d acknowledged writes, "
                + "%d writes in flight at the kills, %d kills left a growth under way, %d doublings%n",
                variable ? " (variable lengths)" : "", kills, THREADS,
                acknowledged, inFlightAtKills, midGrowth, doublings);
        assertThat(doublings).as("the file grew while the writers were being killed").isGreaterThan(3);
        assertThat(inFlightAtKills).as("kills that caught writes in flight").isPositive();
    }

    private static long id(int thread, int k) {
        return ((long) thread << 32) | k;
    }

    private static byte[] keyOf(long id, boolean variable) {
        return MultiWriterWorkload.key((int) (id >>> 32), (int) id, variable);
    }

    private static int serialOf(byte[] v) {
        byte[] full = java.util.Arrays.copyOf(v, 16);
        return java.nio.ByteBuffer.wrap(full).order(java.nio.ByteOrder.LITTLE_ENDIAN).getInt(0);
    }

    /** Applies one line of the child's output; returns true for an acknowledgement. */
    private static boolean apply(Map<Long, KeyState> model, String line) {
        String[] f = line.split(" ");
        if (f.length != (line.startsWith("A ") ? 5 : 4)) {
            return false; // OPEN, or a line cut by the kill
        }
        KeyState k = model.computeIfAbsent(id(Integer.parseInt(f[1]), Integer.parseInt(f[2])), x -> new KeyState());
        int s = Integer.parseInt(f[3]);
        if (f[0].equals("B")) {
            k.inFlight = s;
            return false;
        }
        k.acked = s;
        k.inFlight = null;
        return true;
    }

    private static void check(HashIndex idx, Map<Long, KeyState> model, boolean writable, boolean variable, String where) {
        long present = 0;
        for (Map.Entry<Long, KeyState> e : model.entrySet()) {
            long id = e.getKey();
            KeyState k = e.getValue();
            byte[] v = idx.get(keyOf(id, variable));
            int found = v == null ? -1 : serialOf(v);
            if (v != null) {
                present++;
                assertThat(v).as("%s: value of key %x is whole", where, id)
                        .isEqualTo(MultiWriterWorkload.value((int) (id >>> 32), (int) id, found, variable));
            }
            List<Integer> allowed = new ArrayList<>(List.of(k.acked));
            if (k.inFlight != null) {
                allowed.add(k.inFlight);
            }
            assertThat(allowed).as("%s: key %x holds %d", where, id, found).contains(found);
        }
        assertThat(idx.size()).as("%s: size", where).isEqualTo(present);
        List<String> problems = new ArrayList<>(idx.verify());
        if (!writable) {
            problems.removeIf(p -> p.startsWith("header copy ") && p.contains("is damaged"));
        }
        assertThat(problems).as("%s: verify", where).isEmpty();
    }
}
