package io.hashidx.store;

import java.io.BufferedWriter;
import java.io.IOException;
import java.io.OutputStreamWriter;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * Main class of the child JVM that {@link KillNineTest} kills with SIGKILL. Opens FILE and runs a
 * seeded random workload of puts (new keys and overwrites) and removes until it is killed, printing
 * and flushing one line before and one line after each operation:
 *
 * <pre>
 *   O                  the file is open (recovery done)
 *   ? P id op | ? R id the operation about to run (the one in flight if no ack follows)
 *   P id op | R id     acknowledgement: the operation returned
 *   G old              a growth from {@code old} buckets started during the last operation
 * </pre>
 *
 * Key {@code id} is {@link #key(long)}; the value put by operation number {@code op} is
 * {@link #value(long, long)}. Arguments: FILE SEED NEXT_ID FIRST_OP CAP, where NEXT_ID is the first
 * unused key id, FIRST_OP the first operation number and CAP the size above which removes dominate.
 */
public final class CrashWorkload {
    private CrashWorkload() {
    }

    /** The 8-byte key of {@code id}. */
    static byte[] key(long id) {
        return ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(id).array();
    }

    /** The value operation {@code op} puts under key {@code id}: 0..16 bytes, derived from both. */
    static byte[] value(long id, long op) {
        byte[] v = ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN).putLong(~id).putLong(op * 31 + id).array();
        return Arrays.copyOf(v, (int) Math.floorMod(op * 7 + id, 17L));
    }

    public static void main(String[] args) throws IOException {
        Path path = Path.of(args[0]);
        SplittableRandom rnd = new SplittableRandom(Long.parseLong(args[1]));
        long next = Long.parseLong(args[2]);
        long op = Long.parseLong(args[3]);
        long cap = Long.parseLong(args[4]);
        BufferedWriter out = new BufferedWriter(new OutputStreamWriter(System.out, StandardCharsets.US_ASCII), 256);
        HashIndex idx = HashIndex.open(path);
        Header h = idx.table().h;
        line(out, "O");
        for (; ; op++) {
            boolean wasGrowing = h.growing();
            int kind = rnd.nextInt(100);
            boolean overCap = idx.size() > cap;
            if (next == 0 || kind < (overCap ? 10 : 45)) {
                long id = next++;
                line(out, "? P " + id + " " + op);
                idx.put(key(id), value(id, op));
                line(out, "P " + id + " " + op);
            } else if (kind < (overCap ? 40 : 80)) {
                long id = rnd.nextLong(next);
                line(out, "? P " + id + " " + op);
                idx.put(key(id), value(id, op));
                line(out, "P " + id + " " + op);
            } else {
                long id = rnd.nextLong(next);
                line(out, "? R " + id);
                idx.remove(key(id));
                line(out, "R " + id);
            }
            if (!wasGrowing && h.growing()) {
                line(out, "G " + h.oldBucketCount);
            }
        }
    }

    private static void line(BufferedWriter out, String s) throws IOException {
        out.write(s);
        out.write('\n');
        out.flush();
    }
}
