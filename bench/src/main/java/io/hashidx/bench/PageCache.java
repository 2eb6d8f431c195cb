package io.hashidx.bench;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;

/**
 * The Linux page cache from Java, through FFM downcalls into libc (no JNI, no Unsafe): evict a
 * store's files from the cache, measure how much of them is resident, and {@code madvise} the
 * mappings a store made of them. Used by the cold-read benchmark; needs
 * {@code --enable-native-access=ALL-UNNAMED} to run without a warning.
 *
 * <ul>
 *   <li>{@link #evict}: {@code fsync}, then {@code posix_fadvise(POSIX_FADV_DONTNEED)} on each file:
 *       drops that file's clean pages and nothing else. Pages that a live mapping maps stay, so a store
 *       that keeps its file mapped first has its mappings emptied with {@code madvise(MADV_DONTNEED)}
 *       ({@link #evictUnder}): the store keeps its mapping, and its next access faults the page in from
 *       the file again. Works unprivileged.
 *   <li>{@link #dropAll}: {@code echo 3 > /proc/sys/vm/drop_caches}: every clean page of the machine;
 *       needs root and a kernel that lets the container write it.
 *   <li>{@link #adviseMappings}: finds the store's mappings in {@code /proc/self/maps} and calls
 *       {@code madvise} on each, so a store that maps its file itself can be measured with
 *       {@code MADV_RANDOM} without changing the store.
 * </ul>
 */
public final class PageCache {
    public static final int MADV_NORMAL = 0;
    public static final int MADV_RANDOM = 1;
    /** On a shared file mapping: drops this process's page table entries; the pages stay in the page cache. */
    public static final int MADV_DONTNEED = 4;
    private static final int POSIX_FADV_DONTNEED = 4;
    private static final int O_RDONLY = 0;
    private static final long PAGE = 4096;

    private static final Linker LINKER = Linker.nativeLinker();
    private static final SymbolLookup LIBC = LINKER.defaultLookup();
    private static final Linker.Option ERRNO = Linker.Option.captureCallState("errno");
    private static final VarHandle ERRNO_HANDLE = Linker.Option.captureStateLayout()
            .varHandle(java.lang.foreign.MemoryLayout.PathElement.groupElement("errno"));

    private static final MethodHandle OPEN = downcall("open",
            FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_INT), ERRNO);
    private static final MethodHandle CLOSE = downcall("close",
            FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT));
    private static final MethodHandle FADVISE = downcall("posix_fadvise",
            FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_LONG,
                    ValueLayout.JAVA_LONG, ValueLayout.JAVA_INT));
    private static final MethodHandle MADVISE = downcall("madvise",
            FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_LONG, ValueLayout.JAVA_INT),
            ERRNO);
    private static final MethodHandle MINCORE = downcall("mincore",
            FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_LONG, ValueLayout.ADDRESS),
            ERRNO);

    private PageCache() {
    }

    private static MethodHandle downcall(String name, FunctionDescriptor fd, Linker.Option... options) {
        MemorySegment symbol = LIBC.find(name)
                .orElseThrow(() -> new UnsatisfiedLinkError("libc has no " + name));
        return LINKER.downcallHandle(symbol, fd, options);
    }

    /** Writes back and then drops from the page cache every file in {@code dir}. */
    public static void evict(Path dir) {
        for (Path file : Fixtures.files(dir)) {
            try (FileChannel ch = FileChannel.open(file, StandardOpenOption.WRITE)) {
                ch.force(true);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment state = arena.allocate(Linker.Option.captureStateLayout());
                int fd = (int) OPEN.invokeExact(state, arena.allocateFrom(file.toString()), O_RDONLY);
                if (fd < 0) {
                    throw new IllegalStateException("open " + file + " failed, errno " + (int) ERRNO_HANDLE.get(state, 0L));
                }
                int rc = (int) FADVISE.invokeExact(fd, 0L, 0L, POSIX_FADV_DONTNEED);
                int closed = (int) CLOSE.invokeExact(fd);
                if (rc != 0 || closed != 0) {
                    throw new IllegalStateException("posix_fadvise(DONTNEED) on " + file + " failed: " + rc);
                }
            } catch (RuntimeException | Error e) {
                throw e;
            } catch (Throwable t) {
                throw new IllegalStateException(t);
            }
        }
    }

    /**
     * Evicts the files in {@code dir} while a store in this process keeps them mapped: empties its
     * mappings ({@code MADV_DONTNEED}, which on a shared file mapping loses nothing), then {@link #evict}.
     * The mappings keep their other advice (MADV_RANDOM).
     */
    public static void evictUnder(Path dir) {
        adviseMappings(dir, MADV_DONTNEED);
        evict(dir);
    }

    /**
     * Drops every clean page of the machine ({@code sync; echo 3 > /proc/sys/vm/drop_caches}).
     * Returns false, without throwing, where that is not permitted.
     */
    public static boolean dropAll() {
        try {
            new ProcessBuilder("sync").inheritIO().start().waitFor();
            Files.writeString(Path.of("/proc/sys/vm/drop_caches"), "3\n");
            return true;
        } catch (IOException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    /** {@code [pages in the page cache, pages]} of the files in {@code dir} (mincore). */
    public static long[] residentPages(Path dir) {
        long resident = 0;
        long pages = 0;
        for (Path file : Fixtures.files(dir)) {
            long[] r = resident(file);
            resident += r[0];
            pages += r[1];
        }
        return new long[] {resident, pages};
    }

    /** {@code [resident pages, pages]} of one file. */
    static long[] resident(Path file) {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ); Arena arena = Arena.ofConfined()) {
            long size = ch.size();
            if (size == 0) {
                return new long[] {0, 0};
            }
            MemorySegment map = ch.map(FileChannel.MapMode.READ_ONLY, 0, size, arena);
            long pages = (size + PAGE - 1) / PAGE;
            MemorySegment vec = arena.allocate(pages);
            MemorySegment state = arena.allocate(Linker.Option.captureStateLayout());
            int rc = (int) MINCORE.invokeExact(state, map, size, vec);
            if (rc != 0) {
                throw new IllegalStateException("mincore on " + file + " failed, errno " + (int) ERRNO_HANDLE.get(state, 0L));
            }
            long resident = 0;
            for (long i = 0; i < pages; i++) {
                resident += vec.get(ValueLayout.JAVA_BYTE, i) & 1;
            }
            return new long[] {resident, pages};
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    /**
     * Calls {@code madvise(advice)} on every mapping of this process whose file lies in {@code dir}
     * (as listed in {@code /proc/self/maps}); returns the bytes advised.
     */
    public static long adviseMappings(Path dir, int advice) {
        String prefix = realPath(dir) + "/";
        List<String> lines;
        try {
            lines = Files.readAllLines(Path.of("/proc/self/maps"));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        long advised = 0;
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(Linker.Option.captureStateLayout());
            for (String line : lines) {
                // start-end perms offset dev inode path
                String[] f = line.trim().split("\\s+", 6);
                if (f.length < 6 || !f[5].startsWith(prefix)) {
                    continue;
                }
                String[] range = f[0].split("-");
                long start = Long.parseUnsignedLong(range[0], 16);
                long end = Long.parseUnsignedLong(range[1], 16);
                int rc = (int) MADVISE.invokeExact(state, MemorySegment.ofAddress(start), end - start, advice);
                if (rc != 0) {
                    throw new IllegalStateException("madvise(" + advice + ") on " + f[5] + " failed, errno "
                            + (int) ERRNO_HANDLE.get(state, 0L));
                }
                advised += end - start;
            }
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
        return advised;
    }

    private static String realPath(Path dir) {
        try {
            return dir.toRealPath().toString();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
