package io.hashidx.store;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;
import java.nio.file.Path;

/**
 * Two Linux system calls through FFM downcalls, used only when the JVM grants this module native
 * access ({@code --enable-native-access=io.hashidx.store}, or {@code ALL-UNNAMED} on the class path,
 * as the {@code hashidx} launcher passes); without it the store never calls a restricted method, so
 * the JVM prints no warning, and everything works the portable way.
 *
 * <ul>
 *   <li>{@code fallocate(2)}: extending the file reserves its blocks in one call instead of writing
 *       zeros through the channel. Either way the new range is real, allocated space (never a sparse
 *       hole), so a later store into the mapping cannot fail for lack of disk space. A file system
 *       without fallocate (EOPNOTSUPP) falls back to writing zeros.
 *   <li>{@code madvise(MADV_RANDOM)} on every mapping: a lookup touches one or two pages at random
 *       places, and the kernel's read-ahead around a page fault (up to {@code read_ahead_kb}, 8 MiB on
 *       the benchmark machine) would otherwise read megabytes per cold lookup (bench/REPORT.md, workload 9).
 * </ul>
 * Set the system property {@code hashidx.native=false} to use neither even with native access.
 */
final class Native {
    private static final int O_WRONLY = 1;
    private static final int O_CLOEXEC = 0x80000;
    private static final int MADV_RANDOM = 1;
    private static final int EOPNOTSUPP = 95;
    private static final int ENOSYS = 38;
    private static final int ENOSPC = 28;
    private static final int EDQUOT = 122;
    private static final int EFBIG = 27;
    private static final int EINTR = 4;
    private static final long PAGE = 4096;

    private static final StructLayout CALL_STATE = Linker.Option.captureStateLayout();
    private static final VarHandle ERRNO = CALL_STATE.varHandle(MemoryLayout.PathElement.groupElement("errno"));

    private static final Calls CALLS = load();
    /** Tests set this to run the portable path in a JVM that has native access. */
    static volatile boolean suspended;

    private Native() {
    }

    /** The downcalls, or null when native access is not granted or this is not Linux on a 64-bit JVM. */
    private record Calls(MethodHandle open, MethodHandle close, MethodHandle fallocate, MethodHandle madvise) {
    }

    private static Calls load() {
        if (!Boolean.parseBoolean(System.getProperty("hashidx.native", "true"))
                || !System.getProperty("os.name", "").toLowerCase(java.util.Locale.ROOT).contains("linux")
                || ValueLayout.ADDRESS.byteSize() != 8
                || !Native.class.getModule().isNativeAccessEnabled()) {
            return null;
        }
        try {
            Linker linker = Linker.nativeLinker();
            SymbolLookup libc = linker.defaultLookup();
            Linker.Option errno = Linker.Option.captureCallState("errno");
            // open(2) is variadic: the mode argument is passed as one (and ignored without O_CREAT)
            MethodHandle open = linker.downcallHandle(libc.findOrThrow("open"),
                    FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_INT,
                            ValueLayout.JAVA_INT), errno, Linker.Option.firstVariadicArg(2));
            MethodHandle close = linker.downcallHandle(libc.findOrThrow("close"),
                    FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT));
            MethodHandle fallocate = linker.downcallHandle(libc.findOrThrow("fallocate"),
                    FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT,
                            ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG), errno);
            MethodHandle madvise = linker.downcallHandle(libc.findOrThrow("madvise"),
                    FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_LONG,
                            ValueLayout.JAVA_INT), errno);
            return new Calls(open, close, fallocate, madvise);
        } catch (RuntimeException | LinkageError e) {
            return null;
        }
    }

    /** True when the system calls are in use (native access granted, Linux). */
    static boolean enabled() {
        return CALLS != null && !suspended;
    }

    /**
     * Opens {@code path} for {@link #allocate}: a descriptor of its own, since the store cannot reach
     * its channel's. It must stay open until the file's channel is closed: POSIX record locks belong to
     * the process, and closing <em>any</em> descriptor of the file drops every lock the process holds
     * on it, the writer's lock included ({@link FileLocks}). Returns -1 when this cannot be done here
     * (no native access, or the path cannot be opened); the caller then writes zeros.
     */
    static int openForAllocation(Path path) {
        if (!enabled()) {
            return -1;
        }
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(CALL_STATE);
            MemorySegment name = arena.allocateFrom(path.toAbsolutePath().toString());
            return (int) CALLS.open.invokeExact(state, name, O_WRONLY | O_CLOEXEC, 0);
        } catch (Throwable t) {
            return -1;
        }
    }

    /** Closes a descriptor of {@link #openForAllocation}, after the file's channel was closed. */
    static void close(int fd) {
        if (fd >= 0 && CALLS != null) {
            try {
                int ignored = (int) CALLS.close.invokeExact(fd);
            } catch (Throwable t) {
                // nothing to do: the process keeps one descriptor too many
            }
        }
    }

    /**
     * Reserves the blocks of {@code [offset, offset + length)} of the file open as {@code fd} (from
     * {@link #openForAllocation}) with fallocate(2), extending the file. Returns false when that cannot
     * be done here (suspended, or the file system lacks fallocate): the caller then writes zeros.
     * Throws an IOException whose message says "No space left on device" (or "Disk quota exceeded",
     * "File too large") when the disk is full, as a failed write would.
     */
    static boolean allocate(int fd, long offset, long length) throws IOException {
        if (!enabled() || fd < 0 || length <= 0) {
            return false;
        }
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(CALL_STATE);
            while (true) {
                int rc = (int) CALLS.fallocate.invokeExact(state, fd, 0, offset, length);
                if (rc == 0) {
                    return true;
                }
                int err = (int) ERRNO.get(state, 0L);
                switch (err) {
                    case EINTR:
                        continue;
                    case ENOSPC:
                        throw new IOException("No space left on device (fallocate of " + length + " bytes at " + offset + ")");
                    case EDQUOT:
                        throw new IOException("Disk quota exceeded (fallocate of " + length + " bytes at " + offset + ")");
                    case EFBIG:
                        throw new IOException("File too large (fallocate to " + (offset + length) + " bytes)");
                    case EOPNOTSUPP:
                    case ENOSYS:
                    default:
                        return false;
                }
            }
        } catch (IOException | RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException("native call failed", t);
        }
    }

    /**
     * Tells the kernel that {@code mapping} is read at random places (MADV_RANDOM: no read-ahead
     * around page faults). Advice only: returns whether it was given.
     */
    static boolean adviseRandom(MemorySegment mapping) {
        if (!enabled() || mapping.byteSize() == 0) {
            return false;
        }
        long start = mapping.address() & -PAGE;
        long end = mapping.address() + mapping.byteSize();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(CALL_STATE);
            int rc = (int) CALLS.madvise.invokeExact(state, MemorySegment.ofAddress(start), end - start, MADV_RANDOM);
            return rc == 0;
        } catch (Throwable t) {
            return false;
        }
    }
}
