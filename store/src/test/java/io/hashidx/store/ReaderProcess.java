package io.hashidx.store;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Iterator;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Main class of the reader process that {@link ReaderProcessTest} starts beside a writer.
 *
 * <pre>
 *   lookups FILE KEYS VERSIONS   open read-only, print "ready", then look up keys 0..KEYS-1 (in a
 *                                seeded random order) pass after pass, checking every answer: the
 *                                value is {@link #value} of the key at some version 0..VERSIONS-1, and
 *                                never older than one this process saw before. Each line read from
 *                                stdin is answered after the next whole pass: "pass N lookups L
 *                                doublings D". At end of stdin: "done ...". A wrong answer prints
 *                                "BAD ..." and exits with status 1.
 *   vlookups FILE KEYS VERSIONS  as lookups, on a variable-length file: keys {@link #vkey}, values
 *                                {@link #vvalue} (many out of line); after each pass also one whole
 *                                iteration, every entry of which must be {@link #vvalue} of its key at
 *                                some version 0..VERSIONS-1, each key once
 *   iterate FILE                 open read-only, start an iterator and take one entry, print
 *                                "iterating PIN" (the oldest retirement the iterator may read); on the
 *                                next stdin line do one get (which reads the header again: the pin may
 *                                move, but not past the open iterator) and print "looked"; on the next,
 *                                finish the iteration, do one get and print "moved N" (N entries
 *                                iterated); close at end of stdin and print "closed".
 *   write FILE FROM TO           open for writing, put keys FROM..TO-1 ({@link Fixtures#value16} version
 *                                0), close and print "written" (the writer process beside a reader here)
 *   oddwindow FILE KEY           open for writing, print "open"; on the next stdin line make the primary
 *                                bucket of {@link Fixtures#key16} KEY odd (a write begins) and write
 *                                {@link Fixtures#value16} version 1 into its slot (bytes a reader must not
 *                                return while the version is odd), print "odd"; on the next, write
 *                                version 2, make the version even and print "even"; close at end of
 *                                stdin and print "closed"
 *   overwrite FILE KEY           print "started"; on the next stdin line open for writing (replaying
 *                                what a killed writer left), overwrite {@link Fixtures#key16} KEY with
 *                                {@link Fixtures#value16} version 5 (a lone writer: through lane 0 and
 *                                its journal slot), print "overwritten"; close at end of stdin and print
 *                                "closed"
 *   copy FILE OUT                open read-only, print "ready", on the next stdin line copy the index to
 *                                OUT ({@link HashIndex#copyTo}) and print "copied POINT_IN_TIME ENTRIES"
 * </pre>
 */
public final class ReaderProcess {
    private ReaderProcess() {
    }

    /** The value of {@code key} at {@code version}: length and every byte depend on both. */
    static byte[] value(long key, int version) {
        byte[] v = new byte[8 + Math.floorMod(version + key, 9)];
        long h = key * 0x9E3779B97F4A7C15L + version * 0xC2B2AE3D27D4EB4FL;
        for (int j = 0; j < v.length; j++) {
            v[j] = (byte) ((h >>> (8 * (j % 8))) + j);
        }
        return v;
    }

    /** A key of the variable-length run: 8 bytes, or (one key in three) 28 to 44 bytes: out of line. */
    static byte[] vkey(long key) {
        byte[] k = java.nio.ByteBuffer.allocate(8).order(java.nio.ByteOrder.LITTLE_ENDIAN).putLong(key).array();
        if (key % 3 != 0) {
            return k;
        }
        byte[] longer = Arrays.copyOf(k, 28 + (int) (key % 17));
        for (int i = 8; i < longer.length; i++) {
            longer[i] = (byte) (key * 13 + i);
        }
        return longer;
    }

    /**
     * The value of {@code key} at {@code version} in the variable-length run: 8 to 16 bytes, 17 to 40 or
     * 300 to 1,500 bytes (so overwrites move it in and out of line), every byte depending on both.
     */
    static byte[] vvalue(long key, int version) {
        long h = key * 0x9E3779B97F4A7C15L + version * 0xC2B2AE3D27D4EB4FL;
        h ^= h >>> 31;
        int pick = (int) Long.remainderUnsigned(h, 4);
        int length = pick < 2 ? 8 + (int) Long.remainderUnsigned(h >>> 8, 9)
                : pick == 2 ? 17 + (int) Long.remainderUnsigned(h >>> 8, 24) : 300 + (int) Long.remainderUnsigned(h >>> 8, 1_201);
        byte[] v = new byte[length];
        for (int j = 0; j < v.length; j++) {
            v[j] = (byte) ((h >>> (8 * (j % 8))) + j);
        }
        return v;
    }

    public static void main(String[] args) throws Exception {
        Path path = Path.of(args[1]);
        switch (args[0]) {
            case "lookups" -> lookups(path, Integer.parseInt(args[2]), Integer.parseInt(args[3]), false);
            case "vlookups" -> lookups(path, Integer.parseInt(args[2]), Integer.parseInt(args[3]), true);
            case "iterate" -> iterate(path);
            case "copy" -> copy(path, Path.of(args[2]));
            case "write" -> write(path, Long.parseLong(args[2]), Long.parseLong(args[3]));
            case "oddwindow" -> oddWindow(path, Long.parseLong(args[2]));
            case "overwrite" -> overwrite(path, Long.parseLong(args[2]));
            default -> throw new IllegalArgumentException(args[0]);
        }
    }

    private static void lookups(Path path, int keys, int versions, boolean variable) throws Exception {
        AtomicInteger requests = new AtomicInteger();
        AtomicBoolean ended = new AtomicBoolean();
        Thread stdin = new Thread(() -> {
            try (BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8))) {
                while (in.readLine() != null) {
                    requests.incrementAndGet();
                }
            } catch (Exception e) {
                // end of input either way
            }
            ended.set(true);
        });
        stdin.setDaemon(true);
        try (HashIndex idx = HashIndex.openReadOnly(path)) {
            System.out.println("ready");
            System.out.flush();
            stdin.start();
            int[] lastVersion = new int[keys];
            int[] order = new int[keys];
            Arrays.setAll(order, i -> i);
            SplittableRandom random = new SplittableRandom(7);
            long lookups = 0;
            long passes = 0;
            long iterated = 0;
            int answered = 0;
            while (true) {
                boolean last = ended.get();
                for (int i = keys - 1; i > 0; i--) {
                    int j = random.nextInt(i + 1);
                    int t = order[i];
                    order[i] = order[j];
                    order[j] = t;
                }
                for (int k : order) {
                    byte[] v = idx.get(variable ? vkey(k) : Fixtures.key16(k));
                    lookups++;
                    int version = versionOf(k, v, versions, variable);
                    if (version < lastVersion[k]) {
                        fail("key " + k + " went back from version " + lastVersion[k] + " to " + version
                                + " after " + lookups + " lookups");
                    }
                    lastVersion[k] = version;
                }
                long absent = keys + 50_000_000L + passes;
                if (idx.get(variable ? vkey(absent) : Fixtures.key16(absent)) != null) {
                    fail("key " + absent + " was never written but is found");
                }
                if (variable) {
                    iterated += iterateAndCheck(idx, versions, passes);
                }
                passes++;
                int pending = requests.get();
                if (pending > answered) {
                    answered = pending;
                    System.out.println("pass " + passes + " lookups " + lookups + " doublings " + idx.table().h.doublings);
                    System.out.flush();
                }
                if (last) {
                    System.out.println("done passes " + passes + " lookups " + lookups
                            + (variable ? " iterated " + iterated : "") + " doublings " + idx.table().h.doublings);
                    System.out.flush();
                    return;
                }
            }
        }
    }

    /** One whole iteration of a variable-length file: every entry a value its key had, each key once. */
    private static long iterateAndCheck(HashIndex idx, int versions, long pass) {
        java.util.Set<Long> seen = new java.util.HashSet<>();
        long n = 0;
        for (Iterator<Map.Entry<byte[], byte[]>> it = idx.iterator(new SplittableRandom(pass)); it.hasNext(); ) {
            Map.Entry<byte[], byte[]> e = it.next();
            if (e.getKey().length < 8) {
                fail("iteration returned a key of " + e.getKey().length + " bytes");
            }
            long key = java.nio.ByteBuffer.wrap(e.getKey()).order(java.nio.ByteOrder.LITTLE_ENDIAN).getLong(0);
            if (!Arrays.equals(e.getKey(), vkey(key))) {
                fail("iteration returned a key that was never written: " + Arrays.toString(e.getKey()));
            }
            if (!seen.add(key)) {
                fail("iteration pass " + pass + " returned key " + key + " twice");
            }
            versionOf(key, e.getValue(), versions, true);
            n++;
        }
        return n;
    }

    private static int versionOf(long key, byte[] v, int versions, boolean variable) {
        if (v == null) {
            fail("key " + key + " is missing");
        }
        for (int version = 0; version < versions; version++) {
            if (Arrays.equals(v, variable ? vvalue(key, version) : value(key, version))) {
                return version;
            }
        }
        fail("key " + key + " has a value that was never written: " + Arrays.toString(v));
        return -1;
    }

    private static void fail(String why) {
        System.out.println("BAD " + why);
        System.out.flush();
        System.exit(1);
    }

    private static void iterate(Path path) throws Exception {
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        try (HashIndex idx = HashIndex.openReadOnly(path)) {
            Iterator<Map.Entry<byte[], byte[]>> it = idx.iterator(new SplittableRandom(3));
            it.next();
            System.out.println("iterating " + idx.table().h.oldestReadable());
            System.out.flush();
            in.readLine();
            idx.get(Fixtures.key16(0));
            System.out.println("looked");
            System.out.flush();
            in.readLine();
            long n = 1;
            while (it.hasNext()) {
                it.next();
                n++;
            }
            idx.get(Fixtures.key16(0));
            System.out.println("moved " + n);
            System.out.flush();
            in.readLine();
        }
        System.out.println("closed");
        System.out.flush();
    }

    private static void copy(Path path, Path out) throws Exception {
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        try (HashIndex idx = HashIndex.openReadOnly(path)) {
            System.out.println("ready");
            System.out.flush();
            in.readLine();
            HashIndex.CopyResult r = idx.copyTo(out);
            System.out.println("copied " + r.pointInTime() + " " + r.entries());
            System.out.flush();
        }
    }

    private static void oddWindow(Path path, long k) throws Exception {
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        byte[] key = Fixtures.key16(k);
        try (HashIndex idx = HashIndex.open(path)) {
            Table t = idx.table();
            System.out.println("open");
            System.out.flush();
            in.readLine();
            long hash = Hashing.hash(key, t.h.seed);
            long bucket = t.h.bucketsCell + Hashing.bucketIndex(hash, t.h.bucketCount);
            long ref = t.find(key);
            long cell = ref / BucketLayout.SLOTS;
            int slot = (int) (ref % BucketLayout.SLOTS);
            t.layout.setVersion(bucket, t.layout.version(bucket) + 1);
            t.layout.writeSlot(cell, slot, key, Fixtures.value16(k, 1));
            System.out.println("odd");
            System.out.flush();
            in.readLine();
            t.layout.writeSlot(cell, slot, key, Fixtures.value16(k, 2));
            t.layout.setVersion(bucket, t.layout.version(bucket) + 1);
            System.out.println("even");
            System.out.flush();
            in.readLine();
        }
        System.out.println("closed");
        System.out.flush();
    }

    private static void overwrite(Path path, long k) throws Exception {
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        System.out.println("started");
        System.out.flush();
        in.readLine();
        try (HashIndex idx = HashIndex.open(path)) {
            idx.put(Fixtures.key16(k), Fixtures.value16(k, 5));
            System.out.println("overwritten");
            System.out.flush();
            in.readLine();
        }
        System.out.println("closed");
        System.out.flush();
    }

    private static void write(Path path, long from, long to) {
        try (HashIndex idx = HashIndex.open(path)) {
            for (long k = from; k < to; k++) {
                idx.put(Fixtures.key16(k), Fixtures.value16(k, 0));
            }
        }
        System.out.println("written");
        System.out.flush();
    }
}
