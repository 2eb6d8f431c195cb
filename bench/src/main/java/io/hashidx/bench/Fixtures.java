package io.hashidx.bench;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * The files directory every peer works in ({@code HASHIDX_BENCH_FILES}, which {@code bench/run}
 * sets; a temporary directory otherwise). Loaded data sets are built once per run and peer and
 * reused by every benchmark that only reads them, so a run does not rebuild a 10M-entry file for
 * each fork.
 */
public final class Fixtures {
    /** Bumped whenever {@link Keys} or a peer's load changes, so older prepared files are not reused. */
    private static final String DATA_VERSION = "keys-v2"; // v2: hashidx loads with its bulk builder
    private static final String COMPLETE = ".complete";

    private Fixtures() {
    }

    /** The files directory. */
    public static Path root() {
        String dir = System.getenv("HASHIDX_BENCH_FILES");
        Path root = dir != null && !dir.isBlank()
                ? Path.of(dir)
                : Path.of(System.getProperty("java.io.tmpdir"), "hashidx-bench-files");
        try {
            return Files.createDirectories(root).toAbsolutePath();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * A directory holding {@code peer}'s files with keys {@code 0 .. entries-1} of {@link Keys},
     * loaded presized with {@link KeyValueStore#bulkLoad}, synced and closed; built when missing.
     */
    public static Path loaded(Peer peer, int entries) {
        Path dir = root().resolve(DATA_VERSION).resolve(peer.id() + "-" + entries);
        if (Files.exists(dir.resolve(COMPLETE))) {
            return dir;
        }
        delete(dir);
        long start = System.nanoTime();
        try {
            Files.createDirectories(dir);
            try (KeyValueStore store = peer.create(dir, entries)) {
                store.bulkLoad(entries);
                store.sync();
            }
            Files.writeString(dir.resolve(COMPLETE), Long.toString(entries), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        System.out.printf("# prepared %s with %,d entries in %s (%.1f s)%n", peer.label, entries, dir,
                (System.nanoTime() - start) / 1e9);
        return dir;
    }

    /**
     * Reads every file under {@code dir} once, front to back, so that the warm workloads start with
     * the store's files in the page cache whatever ran before (a cold-read run evicts them; hashidx's
     * bulk builder writes with O_DIRECT, which leaves nothing cached), for every peer alike. Without
     * it, a store that reads with MADV_RANDOM (hashidx) warms one 4 KiB page fault at a time: its first
     * fork measured 0.03-0.97 M gets/s for three iterations, against 2.9-3.0 M once cached.
     */
    static void readThrough(Path dir) {
        java.nio.ByteBuffer buffer = java.nio.ByteBuffer.allocateDirect(1 << 20);
        try (java.util.stream.Stream<Path> files = Files.walk(dir)) {
            for (Path f : files.filter(Files::isRegularFile).toList()) {
                try (java.nio.channels.FileChannel ch = java.nio.channels.FileChannel.open(f)) {
                    while (ch.read(buffer.clear()) > 0) {
                        // the read is what counts
                    }
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** A new empty directory for a store that a benchmark creates and then {@link #delete}s. */
    public static Path scratch(Peer peer) {
        try {
            Path parent = Files.createDirectories(root().resolve("scratch"));
            return Files.createTempDirectory(parent, peer.id() + "-");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Deletes {@code dir} and everything in it; nothing when it does not exist. */
    public static void delete(Path dir) {
        if (dir == null || !Files.exists(dir)) {
            return;
        }
        try (Stream<Path> walk = Files.walk(dir)) {
            for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The data files in {@code dir} (regular files, marker files excluded). */
    public static java.util.List<Path> files(Path dir) {
        try (Stream<Path> walk = Files.walk(dir)) {
            return walk.filter(Files::isRegularFile)
                    .filter(p -> !p.getFileName().toString().equals(COMPLETE))
                    .toList();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Bytes the files in {@code dir} occupy: {@code [allocated on disk, apparent size]} (du -B1). */
    public static long[] bytesOnDisk(Path dir) {
        return new long[] {du(dir, false), du(dir, true)};
    }

    private static long du(Path dir, boolean apparent) {
        try {
            ProcessBuilder pb = apparent
                    ? new ProcessBuilder("du", "-s", "-B1", "--apparent-size", "--exclude=" + COMPLETE, dir.toString())
                    : new ProcessBuilder("du", "-s", "-B1", "--exclude=" + COMPLETE, dir.toString());
            Process p = pb.redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
            if (!p.waitFor(30, TimeUnit.SECONDS) || p.exitValue() != 0) {
                throw new IllegalStateException("du failed on " + dir + ": " + out);
            }
            // the directory entries themselves count a few KiB; they are part of what the peer leaves on disk
            return Long.parseLong(out.split("\\s+")[0]);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }
}
