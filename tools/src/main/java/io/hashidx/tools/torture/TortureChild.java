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
 * of new keys, overwrites and removes until it is killed, half of them in their conditional form
 * (putIfAbsent of a new key; replace(k, v), or replace(k, old, new) and remove(k, v) with the value
 * just read), writing and flushing one line before and one after each operation:
 *
 * <pre>
 *   O g                   the file is open (recovery done)
 *   ? P id op | ? R id    the operation about to run: the one in flight if no acknowledgement follows
 *   P id op g | R id g    acknowledgement: the operation returned
 *   N id g                acknowledgement: the conditional put returned without writing (its condition failed)
 * </pre>
 *
 * {@code g} is the growth state after the open or the operation ({@link GrowthState}). Arguments:
 * FILE SEED NEXT_ID FIRST_OP KEY_WIDTH VALUE_WIDTH fixed|variable, where NEXT_ID is the first key id never used and
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
        Workload workload = new Workload(Integer.parseInt(args[4]), Integer.parseInt(args[5]), args[6].equals("variable"));
        BufferedWriter out = new BufferedWriter(new OutputStreamWriter(System.out, StandardCharsets.US_ASCII), 256);
        HashIndex idx = HashIndex.open(path);
        line(out, "O " + GrowthState.token(idx.growth()));
        for (; ; op++) {
            int kind = rnd.nextInt(100);
            // half of the operations take the conditional form, which writes through the same paths
            boolean conditional = rnd.nextBoolean();
            if (next == 0 || kind < Workload.OVERWRITE) {
                boolean fresh = next == 0 || kind < Workload.PUT_NEW;
                long id = fresh ? next++ : rnd.nextLong(next);
                byte[] key = workload.key(id);
                byte[] value = workload.value(id, op);
                byte[] current = conditional && !fresh && rnd.nextBoolean() ? idx.get(key) : null;
                line(out, "? P " + id + " " + op);
                boolean applied;
                if (!conditional) {
                    idx.put(key, value);
                    applied = true;
                } else if (fresh) {
                    applied = idx.putIfAbsent(key, value) == null;
                } else if (current != null) {
                    applied = idx.replace(key, current, value);
                } else {
                    applied = idx.replace(key, value) != null;
                }
                line(out, (applied ? "P " + id + " " + op : "N " + id) + " " + GrowthState.token(idx.growth()));
            } else {
                long id = rnd.nextLong(next);
                byte[] key = workload.key(id);
                byte[] current = conditional ? idx.get(key) : null;
                line(out, "? R " + id);
                if (current != null) {
                    idx.remove(key, current);
                } else {
                    idx.remove(key);
                }
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
