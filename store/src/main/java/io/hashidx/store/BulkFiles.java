package io.hashidx.store;

import com.sun.nio.file.ExtendedOpenOption;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.channels.FileChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.DirectoryStream;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;

/**
 * The temporary files of one bulk build, all beside the target so that the final rename stays in one
 * file system and the next build finds what a killed one left:
 *
 * <pre>
 *   TARGET.bulk-ID.tmp      the new index, locked for the whole build, renamed to TARGET at the end
 *   TARGET.bulk-ID.run-N    run N (records partitioned by hash), deleted once the index is written
 * </pre>
 *
 * A build first deletes the files of earlier builds of the same target whose {@code .tmp} is not
 * locked any more (their process is gone), and runs whose {@code .tmp} is gone.
 */
final class BulkFiles {
    static final String MARK = ".bulk-";
    static final String TEMP_SUFFIX = ".tmp";
    static final String RUN_SUFFIX = ".run-";

    final Path target;
    final Path temp;
    private final String prefix;
    private int runs;

    private BulkFiles(Path target, String id) {
        this.target = target;
        this.prefix = target.getFileName() + MARK + id;
        this.temp = target.resolveSibling(prefix + TEMP_SUFFIX);
    }

    /** Names for a new build of {@code target}, after deleting what dead builds of it left. */
    static BulkFiles forTarget(Path target) {
        removeStale(target);
        String id = Long.toString(ProcessHandle.current().pid(), 36) + "-"
                + Long.toString(ThreadLocalRandom.current().nextLong() >>> 1, 36);
        return new BulkFiles(target, id);
    }

    /** The path of the next run file. */
    Path nextRun() {
        return temp.resolveSibling(prefix + RUN_SUFFIX + runs++);
    }

    /**
     * Deletes the temporary files of earlier builds of {@code target} that no live build holds: a
     * {@code .tmp} whose lock can be taken (its builder is gone) with its runs, and runs without a
     * {@code .tmp}. Files of a build in progress (locked, in this process or another) stay.
     */
    static void removeStale(Path target) {
        Path dir = target.toAbsolutePath().getParent();
        String start = target.getFileName() + MARK;
        List<Path> temps = new ArrayList<>();
        List<Path> runFiles = new ArrayList<>();
        try (DirectoryStream<Path> files = Files.newDirectoryStream(dir, f -> f.getFileName().toString().startsWith(start))) {
            for (Path f : files) {
                String name = f.getFileName().toString();
                if (name.endsWith(TEMP_SUFFIX)) {
                    temps.add(f);
                } else if (name.contains(RUN_SUFFIX)) {
                    runFiles.add(f);
                }
            }
        } catch (IOException e) {
            return; // nothing to clean, or a directory we cannot list: the build reports that itself
        }
        Set<String> live = new HashSet<>();
        for (Path t : temps) {
            String id = idOf(t.getFileName().toString(), start, TEMP_SUFFIX);
            FileLocks.Handle handle;
            try {
                handle = FileLocks.acquireTemporary(t, false);
            } catch (HashIndexException e) {
                live.add(id); // locked by a build in progress (or not ours to touch)
                continue;
            }
            try {
                deleteQuietly(t);
            } finally {
                handle.release();
            }
        }
        for (Path r : runFiles) {
            String name = r.getFileName().toString();
            String id = name.substring(start.length(), name.lastIndexOf(RUN_SUFFIX));
            if (!live.contains(id)) {
                deleteQuietly(r);
            }
        }
    }

    private static String idOf(String name, String start, String suffix) {
        return name.substring(start.length(), name.length() - suffix.length());
    }

    /** Set {@code -Dhashidx.bulk.direct=false} to write every bulk build through the page cache. */
    static volatile boolean directIo = Boolean.parseBoolean(System.getProperty("hashidx.bulk.direct", "true"));
    /**
     * Tests: when positive, {@link #openDirect} gives an ordinary channel (no {@code O_DIRECT}) with
     * this block size, so that the direct path's block arithmetic runs with any block on any file system.
     */
    static volatile int plainBlockForTests;

    /**
     * The temporary file opened a second time, with {@code O_DIRECT}, for {@link BulkWriter}.
     *
     * @param channel the channel, or null
     * @param block   the block size its writes must align to; 0 when it cannot be used
     */
    record Direct(FileChannel channel, int block) {
        static final Direct NONE = new Direct(null, 0);

        boolean usable() {
            return block > 0;
        }
    }

    /**
     * Opens {@link #temp}, locked by {@code handle}, a second time with {@code O_DIRECT} (closed when
     * the handle is released) and writes one zero block at its start (the header page, which the
     * builder writes last). Unusable ({@link Direct#usable()} false) where the file system refuses
     * either (tmpfs before Linux 6.6, some network and FUSE file systems), its block size is not a
     * power of two up to the header page's size, or {@link #directIo} is off. The probe write runs on
     * a thread of its own: an interrupt of the caller's thread during it would close the channel, and
     * with it the temporary file's lock.
     */
    Direct openDirect(FileLocks.Handle handle) {
        if (plainBlockForTests > 0) {
            try {
                return new Direct(handle.openAnotherChannel(StandardOpenOption.WRITE), plainBlockForTests);
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        }
        if (!directIo) {
            return Direct.NONE;
        }
        int block;
        try {
            long size = Files.getFileStore(temp).getBlockSize();
            if (size <= 0 || size > MappedFile.DATA_START || Long.bitCount(size) != 1) {
                return Direct.NONE;
            }
            block = (int) size;
        } catch (IOException | UnsupportedOperationException e) {
            return Direct.NONE;
        }
        FileChannel channel;
        try {
            channel = handle.openAnotherChannel(StandardOpenOption.WRITE, ExtendedOpenOption.DIRECT);
        } catch (IOException | UnsupportedOperationException e) {
            return Direct.NONE;
        }
        java.util.concurrent.FutureTask<Boolean> probe = new java.util.concurrent.FutureTask<>(() -> {
            try (Arena arena = Arena.ofConfined()) {
                writeFully(channel, arena.allocate(block, block), 0);
                return true;
            }
        });
        Thread.ofPlatform().name("hashidx-bulk-probe").start(probe);
        // refused (an IOException in the probe): the build writes through the page cache
        return BulkBuilder.getQuietly(probe) != null ? new Direct(channel, block) : Direct.NONE;
    }

    /** Writes all of {@code from} at {@code position}, however many calls the channel takes. */
    static void writeFully(FileChannel channel, MemorySegment from, long position) throws IOException {
        java.nio.ByteBuffer b = from.asByteBuffer();
        long at = position;
        while (b.hasRemaining()) {
            at += channel.write(b, at);
        }
    }

    /**
     * Gives the finished, synced temporary file the target's name: a hard link, which fails if the
     * target appeared meanwhile, then the temporary name is removed; where the file system has no
     * hard links, an atomic rename after checking that the target is still absent. Then the
     * directory is synced, so the new name survives a power loss too.
     */
    void publish() {
        try {
            try {
                Files.createLink(target, temp);
                Files.delete(temp);
            } catch (FileAlreadyExistsException e) {
                throw alreadyExists(target);
            } catch (UnsupportedOperationException | IOException e) {
                if (Files.exists(target)) {
                    throw alreadyExists(target);
                }
                try {
                    Files.move(temp, target, StandardCopyOption.ATOMIC_MOVE);
                } catch (AtomicMoveNotSupportedException notAtomic) {
                    throw HashIndexException.io(target, "renaming " + temp + " to " + target
                            + " (the file system cannot rename atomically; the finished index stays in " + temp + ")",
                            notAtomic);
                }
            }
        } catch (IOException e) {
            throw HashIndexException.io(target, "renaming " + temp + " to " + target, e);
        }
        syncDirectory(target.toAbsolutePath().getParent());
    }

    static HashIndexException alreadyExists(Path target) {
        return HashIndexException.invalidArgument(target,
                "file already exists; the bulk builder writes new files only (delete it first, or add with put)");
    }

    private static void syncDirectory(Path dir) {
        try (FileChannel d = FileChannel.open(dir, StandardOpenOption.READ)) {
            d.force(true);
        } catch (IOException e) {
            // some platforms cannot open or sync a directory; the rename itself is done
        }
    }

    static void deleteQuietly(Path path) {
        try {
            Files.deleteIfExists(path);
        } catch (IOException ignored) {
            // a file left behind is deleted by the next build of the same target
        }
    }

    /** The error for a failed write: a full disk gets its own code and message. */
    static HashIndexException writeFailed(Path path, String doing, IOException e) {
        String m = String.valueOf(e.getMessage());
        if (m.contains("No space left") || m.contains("Disk quota exceeded") || m.contains("File too large")) {
            return HashIndexException.diskFullBuilding(path, doing, e);
        }
        return HashIndexException.io(path, doing, e);
    }
}
