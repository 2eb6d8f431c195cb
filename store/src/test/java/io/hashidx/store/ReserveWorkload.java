package io.hashidx.store;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Main class of the child JVM that {@link ReserveKillNineTest} kills with SIGKILL. Creates the file
 * with {@code INITIAL} entries if it does not exist, opens it, makes room for {@code RESERVE} entries
 * ({@link HashIndex#reserve}, a growth by 2^k) and then puts new keys {@code size, size + 1, ...},
 * printing {@code ACK i} after each put returns, until it is killed. Arguments: PATH INITIAL RESERVE.
 */
public final class ReserveWorkload {
    static final long SEED = 0xD1CE;

    private ReserveWorkload() {
    }

    static Options options() {
        return Options.widths(16, 16).seed(SEED);
    }

    public static void main(String[] args) throws IOException {
        Path path = Path.of(args[0]);
        long initial = Long.parseLong(args[1]);
        long reserve = Long.parseLong(args[2]);
        PrintStream out = System.out;
        if (!Files.exists(path)) {
            try (HashIndex idx = HashIndex.create(path, options())) {
                for (long i = 0; i < initial; i++) {
                    idx.put(Fixtures.key16(i), Fixtures.value16(i, 0));
                }
                idx.finishGrowth();
            }
            out.println("CREATED");
        }
        HashIndex idx = HashIndex.open(path);
        out.println("OPENED " + idx.size());
        out.flush();
        idx.reserve(reserve);
        out.println("RESERVED");
        out.flush();
        for (long i = idx.size(); ; i++) {
            idx.put(Fixtures.key16(i), Fixtures.value16(i, 0));
            out.println("ACK " + i);
            out.flush();
        }
    }
}
