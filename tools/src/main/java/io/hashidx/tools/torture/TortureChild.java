package io.hashidx.tools.torture;

import io.hashidx.store.HashIndex;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.OutputStreamWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.SplittableRandom;

/**
 * Main class of the child JVM that a torture {@link Campaign} kills with SIGKILL. Opens FILE
 * read-write (replaying whatever the last kill cut short) and runs a seeded random workload of puts
 * of new keys, overwrites and removes until it is killed, writing and flushing one line before and
 * one after each operation:
 *
 * <pre>
 *   O g                   the file is open (recovery done)
 *   ? P id op | ? R id    the operation about to run: the one in flight if no acknowledgement follows
 *   P id op g | R id g    acknowledgement: the operation returned
 * </pre>
 *
 * {@code g} is the growth state after the open or the operation ({@link GrowthState}). Arguments:
 * FILE SEED NEXT_ID FIRST_OP KEY_WIDTH VALUE_WIDTH, where NEXT_ID is the first key id never used and
 * FIRST_OP the first operation number.
 */
public final class TortureChild {
    private TortureChild() {
    }

    public static void main(String[] args) throws IOException {
        Path path = Path.of(args[0]);
        SplittableRandom rnd = new SplittableRandom(Long.parseLong(args[1]));
        long next = Long.parseLong(args[2]);
        long op = Long.parseLong(args[3]);
        Workload workload = new Workload(Integer.parseInt(args[4]), Integer.parseInt(args[5]));
        BufferedWriter out = new BufferedWriter(new OutputStreamWriter(System.out, StandardCharsets.US_ASCII), 256);
        HashIndex idx = HashIndex.open(path);
        line(out, "O " + GrowthState.token(idx.growth()));
        for (; ; op++) {
            int kind = rnd.nextInt(100);
            if (next == 0 || kind < Workload.OVERWRITE) {
                long id = next == 0 || kind < Workload.PUT_NEW ? next++ : rnd.nextLong(next);
                line(out, "? P " + id + " " + op);
                idx.put(workload.key(id), workload.value(id, op));
                line(out, "P " + id + " " + op + " " + GrowthState.token(idx.growth()));
            } else {
                long id = rnd.nextLong(next);
                line(out, "? R " + id);
                idx.remove(workload.key(id));
                line(out, "R " + id + " " + GrowthState.token(idx.growth()));
            }
        }
    }

    private static void line(BufferedWriter out, String s) throws IOException {
        out.write(s);
        out.write('\n');
        out.flush();
    }
}
