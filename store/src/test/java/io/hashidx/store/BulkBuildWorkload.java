package io.hashidx.store;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;

/**
 * Main class of the child JVM that {@link BulkKillNineTest} kills with SIGKILL: a bulk build of
 * {@link #key}/{@link #value} records (every tenth key repeated with a newer value) that stops in
 * the phase named by its argument, prints {@code STOPPED phase} and waits to be killed:
 *
 * <pre>
 *   adding        after half the records were added (runs were spilled, one may be spilling)
 *   partitioning  in build(), when the last spill is awaited
 *   writing       in build(), after the first batch of buckets was handed to the writer
 *   written       in build(), when the file is complete and synced but not yet named
 * </pre>
 *
 * Arguments: TARGET RECORDS MEMORY PHASE.
 */
public final class BulkBuildWorkload {
    static final long SEED = 77;

    private BulkBuildWorkload() {
    }

    static byte[] key(long i) {
        return Fixtures.key16(i);
    }

    static byte[] value(long i, int version) {
        return Fixtures.value16(i, version);
    }

    /** Adds record {@code i} of the workload: key i % (records - records / 10), the later ones repeat keys. */
    static void add(BulkBuilder b, long i, long records) {
        long distinct = records - records / 10;
        b.add(key(i % distinct), value(i % distinct, i < distinct ? 0 : 1));
    }

    public static void main(String[] args) throws IOException {
        Path target = Path.of(args[0]);
        long records = Long.parseLong(args[1]);
        long memory = Long.parseLong(args[2]);
        String phase = args[3];
        PrintStream out = System.out;
        BulkBuilder b = HashIndex.bulkBuilder(target, Options.widths(16, 16).seed(SEED)).memory(memory);
        b.progress((p, done, total) -> {
            boolean stop = switch (phase) {
                case "partitioning" -> p.equals("partitioning");
                case "writing" -> p.equals("writing") && done < total;
                case "written" -> p.equals("writing") && done == total;
                default -> false;
            };
            if (stop) {
                stopHere(out, phase);
            }
        });
        for (long i = 0; i < records; i++) {
            add(b, i, records);
            if (phase.equals("adding") && i == records / 2) {
                stopHere(out, phase);
            }
        }
        b.build();
        out.println("BUILT");
        out.flush();
    }

    private static void stopHere(PrintStream out, String phase) {
        out.println("STOPPED " + phase);
        out.flush();
        try {
            System.in.read(); // blocks until the parent kills this process
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        throw new IllegalStateException("stdin closed: the parent should have killed this process");
    }
}
