package io.hashidx.store;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

/**
 * Main class of the child JVM that {@link LockingTest} starts, to hold or probe an index file's lock
 * from another process.
 *
 * <pre>
 *   hold-write FILE | hold-read FILE    open, print "locked", wait for a line or end of stdin, close, print "closed"
 *   probe-write FILE | probe-read FILE  try to open, print "opened" (and close) or the error code, e.g. "LOCKED"
 * </pre>
 *
 * A failed open prints the error code instead of "locked", and the exit status is 0 either way.
 */
public final class LockHolder {
    private LockHolder() {
    }

    public static void main(String[] args) throws Exception {
        String mode = args[0];
        Path path = Path.of(args[1]);
        boolean write = mode.endsWith("-write");
        HashIndex idx;
        try {
            idx = write ? HashIndex.open(path) : HashIndex.openReadOnly(path);
        } catch (HashIndexException e) {
            System.out.println(e.code().name());
            System.out.flush();
            System.err.println(e.getMessage());
            return;
        }
        if (mode.startsWith("probe-")) {
            idx.close();
            System.out.println("opened");
            System.out.flush();
            return;
        }
        System.out.println("locked");
        System.out.flush();
        new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8)).readLine();
        idx.close();
        System.out.println("closed");
        System.out.flush();
    }
}
