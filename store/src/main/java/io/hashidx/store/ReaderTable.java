package io.hashidx.store;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;

/**
 * The reader table: a small lock file beside the index ({@code NAME.readers}, as LMDB keeps its
 * {@code lock.mdb}) in which every process that reads the index while another may write it holds a
 * slot. A slot says which bucket arrays its process may still read; the writer frees a retired array
 * only once no live slot pins it. Liveness is a byte-range lock: a slot's owner holds an exclusive
 * lock on the slot's first byte for as long as it reads, the kernel drops the lock when the process
 * dies however it dies, and a writer that can take the lock knows the owner is gone and clears the slot.
 *
 * <pre>
 *  0     header (64 bytes): magic "HIDXRDRS", version u32 = 1, slot count u32 = 127, slot size u32 = 64, zeros
 *  64    slot 0 (64 bytes): pid u64, pin u64 (0 = pins nothing), zeros
 *  128   slot 1 ...                                              up to 8192 bytes
 * </pre>
 *
 * The pin is a growth number plus one: a slot with pin {@code p + 1} may read every array that was
 * retired at the end of growth {@code p} or later (FORMAT.md section 11). All words are aligned
 * little-endian u64, read and written with volatile accesses through a shared mapping.
 *
 * <p>One table per lock file per JVM (POSIX locks belong to the process, and closing any channel on
 * the file would drop all of them): {@link FileLocks} keeps it with the data file's entry, and each
 * read-only {@link HashIndex} of that file claims its own slot.
 */
final class ReaderTable {
    static final String SUFFIX = ".readers";
    static final byte[] MAGIC = "HIDXRDRS".getBytes(StandardCharsets.US_ASCII);
    static final int VERSION = 1;

    static final int MAGIC_OFFSET = 0;
    static final int VERSION_OFFSET = MAGIC_OFFSET + 8;
    static final int SLOT_COUNT_OFFSET = VERSION_OFFSET + 4;
    static final int SLOT_SIZE_OFFSET = SLOT_COUNT_OFFSET + 4;
    static final int HEADER_SIZE = 64;

    static final int PID_OFFSET = 0;
    static final int PIN_OFFSET = PID_OFFSET + 8;
    static final int SLOT_SIZE = 64;
    static final int SLOTS = 127;
    static final long FILE_SIZE = HEADER_SIZE + (long) SLOTS * SLOT_SIZE;

    /** A pin that pins nothing: the slot's owner holds no arrays yet. */
    static final long NO_PIN = Long.MAX_VALUE;

    private static final ValueLayout.OfLong LONG = ValueLayout.JAVA_LONG.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final VarHandle WORD = LONG.varHandle();

    private final Path path;
    private final FileChannel channel;
    private final Arena arena;
    private final MemorySegment table;
    /** Slot locks this JVM holds; null where it holds none. Guarded by this. */
    private final FileLock[] held = new FileLock[SLOTS];
    /** Whether this open created the file (a failed create of the index deletes it again). */
    private final boolean created;

    private ReaderTable(Path path, FileChannel channel, Arena arena, MemorySegment table, boolean created) {
        this.path = path;
        this.channel = channel;
        this.arena = arena;
        this.table = table;
        this.created = created;
    }

    /**
     * The reader table of {@code index}: {@code NAME.readers} beside the file that the path names after
     * symbolic links are followed, so that every process finds the same table whichever link it opened.
     * (Hard links are names of their own: processes that share a file must open it by one name.)
     */
    static Path pathFor(Path index) {
        Path real;
        try {
            real = index.toRealPath();
        } catch (IOException e) {
            real = index.toAbsolutePath();
        }
        return real.resolveSibling(real.getFileName() + SUFFIX);
    }

    /**
     * Opens (creating it if needed) the reader table of {@code index}, or returns null when it cannot
     * be opened for writing (a read-only directory or file, a full disk): the caller then locks the
     * data file so that readers and a writer do not meet. A table with the wrong magic, version or
     * size is CORRUPT.
     */
    static ReaderTable open(Path index) {
        Path path = pathFor(index);
        FileChannel ch;
        try {
            ch = FileChannel.open(path, StandardOpenOption.CREATE, StandardOpenOption.READ, StandardOpenOption.WRITE);
        } catch (IOException | UnsupportedOperationException e) {
            return null;
        }
        Arena arena = null;
        try {
            Boolean created = initialise(path, ch);
            if (created == null) {
                ch.close();
                return null;
            }
            arena = Arena.ofShared();
            MemorySegment seg = ch.map(FileChannel.MapMode.READ_WRITE, 0, FILE_SIZE, arena);
            return new ReaderTable(path, ch, arena, seg, created);
        } catch (IOException e) {
            closeQuietly(ch, arena);
            throw HashIndexException.io(path, "mapping the reader table", e);
        } catch (RuntimeException e) {
            closeQuietly(ch, arena);
            throw e;
        }
    }

    /**
     * Writes the header and empty slots into a new (empty) table under an exclusive lock on the header,
     * so two processes creating it at once do not mix; checks an existing one. Returns whether it wrote
     * the table, or null when a new table cannot be written (full disk).
     */
    private static Boolean initialise(Path path, FileChannel ch) throws IOException {
        try (FileLock ignored = ch.lock(0, HEADER_SIZE, false)) {
            long size = ch.size();
            if (size == 0) {
                ByteBuffer b = ByteBuffer.allocate((int) FILE_SIZE).order(ByteOrder.LITTLE_ENDIAN);
                b.put(MAGIC_OFFSET, MAGIC);
                b.putInt(VERSION_OFFSET, VERSION);
                b.putInt(SLOT_COUNT_OFFSET, SLOTS);
                b.putInt(SLOT_SIZE_OFFSET, SLOT_SIZE);
                try {
                    while (b.hasRemaining()) {
                        ch.write(b, b.position());
                    }
                    ch.force(true);
                } catch (IOException e) {
                    ch.truncate(0);
                    return null;
                }
                return true;
            }
            ByteBuffer b = ByteBuffer.allocate(HEADER_SIZE).order(ByteOrder.LITTLE_ENDIAN);
            while (b.hasRemaining() && ch.read(b, b.position()) > 0) {
                // read the header
            }
            byte[] magic = new byte[MAGIC.length];
            b.get(0, magic);
            if (size != FILE_SIZE || !java.util.Arrays.equals(magic, MAGIC)) {
                throw HashIndexException.corrupt(path, 0, "not a hashidx reader table (" + size + " bytes, expected "
                        + FILE_SIZE + " starting with HIDXRDRS); delete it once no process has the index open");
            }
            if (b.getInt(VERSION_OFFSET) != VERSION || b.getInt(SLOT_COUNT_OFFSET) != SLOTS
                    || b.getInt(SLOT_SIZE_OFFSET) != SLOT_SIZE) {
                throw HashIndexException.unsupportedVersion(path, b.getInt(VERSION_OFFSET), VERSION, false);
            }
            return false;
        }
    }

    Path path() {
        return path;
    }

    boolean created() {
        return created;
    }

    private static long slotOffset(int slot) {
        return HEADER_SIZE + (long) slot * SLOT_SIZE;
    }

    /**
     * Claims a free slot for this process: the first one whose lock no live process holds. Its pin is
     * {@link #NO_PIN} until {@link #pin} sets one. LOCKED when all 127 slots are held.
     */
    synchronized int claim() {
        for (int slot = 0; slot < SLOTS; slot++) {
            if (held[slot] != null) {
                continue;
            }
            FileLock lock = tryLock(slot);
            if (lock != null) {
                held[slot] = lock;
                WORD.setVolatile(table, slotOffset(slot) + PIN_OFFSET, 0L);
                WORD.setVolatile(table, slotOffset(slot) + PID_OFFSET, ProcessHandle.current().pid());
                return slot;
            }
        }
        throw HashIndexException.locked(path, "all " + SLOTS + " reader slots are taken by live processes");
    }

    private FileLock tryLock(int slot) {
        try {
            return channel.tryLock(slotOffset(slot), 1, false);
        } catch (OverlappingFileLockException e) {
            return null; // held by this JVM
        } catch (IOException e) {
            throw HashIndexException.io(path, "locking reader slot " + slot, e);
        }
    }

    /**
     * Sets the slot's pin to growth {@code growth} (or {@link #NO_PIN}), then fences, so that a header
     * read after this call is ordered after the pin is visible to the writer (FORMAT.md section 11).
     */
    void pin(int slot, long growth) {
        WORD.setVolatile(table, slotOffset(slot) + PIN_OFFSET, growth == NO_PIN ? 0L : growth + 1);
        VarHandle.fullFence();
    }

    /** Clears the slot and releases its lock. */
    synchronized void release(int slot) {
        FileLock lock = held[slot];
        if (lock == null) {
            return;
        }
        WORD.setVolatile(table, slotOffset(slot) + PIN_OFFSET, 0L);
        WORD.setVolatile(table, slotOffset(slot) + PID_OFFSET, 0L);
        held[slot] = null;
        try {
            lock.release();
        } catch (IOException ignored) {
            // closing the channel releases it
        }
    }

    /**
     * For the writer: the smallest growth that a live reader pins, or {@link #NO_PIN}. A slot whose
     * lock can be taken belongs to a process that is gone: it is cleared (and so are slots with a pid
     * but no pin). Fences first, so that header changes made before are visible to readers that
     * register after the pins were read.
     */
    synchronized long oldestPin() {
        VarHandle.fullFence();
        long oldest = NO_PIN;
        for (int slot = 0; slot < SLOTS; slot++) {
            long at = slotOffset(slot);
            long pin = (long) WORD.getVolatile(table, at + PIN_OFFSET);
            long pid = (long) WORD.getVolatile(table, at + PID_OFFSET);
            if (pin == 0 && pid == 0) {
                continue;
            }
            if (pin != 0 && pin - 1 >= oldest) {
                continue; // cannot lower the minimum: no need to ask whether its owner lives
            }
            if (held[slot] == null) {
                FileLock lock = tryLock(slot);
                if (lock != null) {
                    // the owner died without releasing its slot (kill -9): clean it up
                    WORD.setVolatile(table, at + PIN_OFFSET, 0L);
                    WORD.setVolatile(table, at + PID_OFFSET, 0L);
                    try {
                        lock.release();
                    } catch (IOException ignored) {
                        // released with the channel at the latest
                    }
                    continue;
                }
            }
            if (pin != 0) {
                oldest = Math.min(oldest, pin - 1);
            }
        }
        return oldest;
    }

    /** The live readers' slots as {slot, pid, pinned growth or -1}: for inspect and tests. */
    synchronized List<long[]> readers() {
        List<long[]> list = new ArrayList<>();
        for (int slot = 0; slot < SLOTS; slot++) {
            long at = slotOffset(slot);
            long pid = (long) WORD.getVolatile(table, at + PID_OFFSET);
            long pin = (long) WORD.getVolatile(table, at + PIN_OFFSET);
            if (pid != 0 || pin != 0) {
                list.add(new long[] {slot, pid, pin - 1});
            }
        }
        return list;
    }

    /** Releases every slot of this JVM and closes the table. */
    synchronized void close() {
        for (int slot = 0; slot < SLOTS; slot++) {
            release(slot);
        }
        closeQuietly(channel, arena);
    }

    private static void closeQuietly(FileChannel ch, Arena arena) {
        if (arena != null) {
            arena.close();
        }
        try {
            ch.close();
        } catch (IOException ignored) {
            // nothing left to do with it
        }
    }
}
