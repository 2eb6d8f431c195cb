package io.hashidx.store;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;

/**
 * The index file as memory: one mapping for the header page and one per fixed-size chunk of cells,
 * each chunk in its own shared {@link Arena}. Growing the file adds mappings (and remaps only the
 * last, partial chunk); it never remaps everything.
 *
 * <p>The file is only ever extended by reserving real blocks before the new range is mapped: with
 * fallocate(2) when the JVM grants native access ({@link Native}), else by writing zeros through the
 * channel. Mapping past the end would extend the file as a sparse hole, and the first store into a
 * hole on a full disk kills the JVM with SIGBUS. Every mapping is advised MADV_RANDOM when native
 * access is granted.
 */
final class MappedFile implements AutoCloseable {
    /** Size of the header page; cells start here. */
    static final long DATA_START = 4096;
    private static final int ZERO_BLOCK = 1 << 20;
    private static final ByteBuffer ZEROS = ByteBuffer.allocateDirect(ZERO_BLOCK).asReadOnlyBuffer();

    private final Path path;
    private final FileLocks.Handle handle;
    private final FileChannel channel;
    private final boolean writable;
    private long chunkSize;
    private final Arena headerArena;
    private final MemorySegment header;
    /** Published whole (a new array on every change), so a lock-free reader sees a consistent set. */
    private volatile MemorySegment[] chunks = new MemorySegment[0];
    private Arena[] arenas = new Arena[0];
    /**
     * Mappings of a last, partial chunk that a longer mapping replaced. A lock-free reader or another
     * writer may still be reading through one, so they stay mapped until the file is closed. The file
     * grows geometrically (by at least an eighth of its size, or a whole bucket array), so they are few.
     */
    private final java.util.List<Arena> replaced = new java.util.ArrayList<>();
    private volatile boolean closed;
    private long mappedEnd = DATA_START;
    private long size;
    private static final int UNOPENED = -2;
    /**
     * A descriptor of the file of its own for fallocate ({@link Native}), opened at the first extension
     * of a writable file and closed after the channel, since closing it earlier would drop the writer's
     * lock; -1 when fallocate is not used.
     */
    private int allocationFd = UNOPENED;

    /**
     * Maps the header page of an open file. A new, empty file first gets a zeroed header page; an
     * existing file shorter than the header page is refused with a precise error.
     */
    MappedFile(Path path, FileLocks.Handle handle, boolean creating) {
        this.path = path;
        this.handle = handle;
        this.channel = handle.channel();
        this.writable = handle.writable();
        try {
            this.size = channel.size();
            if (creating) {
                try {
                    extendTo(DATA_START, "for the header page of a new file");
                } catch (HashIndexException.Storage e) {
                    // a new file that could not be created: its lock can go with the descriptor
                    Native.close(allocationFd);
                    allocationFd = -1;
                    throw e.code() == HashIndexException.Code.DISK_FULL
                            ? HashIndexException.diskFullCreating(path, DATA_START, e.getCause()) : e;
                }
            } else if (size < DATA_START) {
                refuseShortFile();
            }
        } catch (IOException e) {
            throw HashIndexException.io(path, "reading the file", e);
        }
        this.headerArena = Arena.ofShared();
        this.header = map(0, DATA_START, headerArena);
    }

    private void refuseShortFile() throws IOException {
        ByteBuffer start = ByteBuffer.allocate(Header.MAGIC.length);
        while (start.hasRemaining() && channel.read(start, start.position()) > 0) {
            // read what there is of the magic bytes
        }
        if (!start.hasRemaining() && java.util.Arrays.equals(start.array(), Header.MAGIC)) {
            throw HashIndexException.corrupt(path, size, "truncated: the file is " + size
                    + " bytes, shorter than its " + DATA_START + "-byte header page");
        }
        throw HashIndexException.notHashIndex(path, size == 0 ? "the file is empty" : "the file is only " + size + " bytes");
    }

    /** Set once, from the header, before any cell is mapped. */
    void setChunkSize(long chunkSize) {
        this.chunkSize = chunkSize;
    }

    Path path() {
        return path;
    }

    long chunkSize() {
        return chunkSize;
    }

    boolean writable() {
        return writable;
    }

    /** The reader table beside the file, or null when this process could not open it. */
    ReaderTable readers() {
        return handle.readers();
    }

    FileLocks.Handle handle() {
        return handle;
    }

    /** The physical size of the file: every byte below it was really written. */
    long size() {
        return size;
    }

    MemorySegment header() {
        return header;
    }

    /**
     * The mapping of chunk {@code index}. After {@link #close()} there is none: a lock-free reader racing
     * with close gets an IndexOutOfBoundsException here, or an IllegalStateException from a segment
     * whose arena was closed, and turns either into CLOSED ({@link #isClosed()}).
     */
    MemorySegment chunk(int index) {
        return chunks[index];
    }

    /** A reader process: learns how far a writer process has extended the file. */
    synchronized void refreshSize() {
        try {
            size = Math.max(size, channel.size());
        } catch (IOException e) {
            throw HashIndexException.io(path, "reading the file size", e);
        }
    }

    boolean isClosed() {
        return closed;
    }

    /**
     * Makes sure the file is at least {@code end} bytes, reserving real blocks (fallocate, or zeros
     * written through the channel; never a sparse hole), before any mapping covers the new range. On failure the file is cut back to its
     * old size and the error (DISK_FULL when the disk or quota is full) names {@code purpose}, e.g.
     * "for an overflow page".
     */
    void extendTo(long end, String purpose) {
        if (end <= size) {
            return;
        }
        long start = size;
        try {
            if (allocationFd == UNOPENED) {
                allocationFd = writable ? Native.openForAllocation(path) : -1;
            }
            if (Native.allocate(allocationFd, start, end - start) && channel.size() >= end) {
                size = end;
                return;
            }
            long pos = start;
            while (pos < end) {
                ByteBuffer zeros = ZEROS.duplicate();
                zeros.limit((int) Math.min(ZERO_BLOCK, end - pos));
                while (zeros.hasRemaining()) {
                    pos += channel.write(zeros, pos);
                }
            }
            size = end;
        } catch (IOException e) {
            try {
                channel.truncate(start);
            } catch (IOException ignored) {
                // the size stays as it was recorded; the partial tail is unused zeros
            }
            if (isDiskFull(e)) {
                throw HashIndexException.diskFull(path, start, end, purpose, e);
            }
            throw HashIndexException.io(path, "extending the file from " + start + " to " + end + " bytes " + purpose, e);
        }
    }

    private static boolean isDiskFull(IOException e) {
        String m = String.valueOf(e.getMessage());
        return m.contains("No space left") || m.contains("Disk quota exceeded") || m.contains("File too large");
    }

    /**
     * Maps whatever is needed so that bytes below {@code end} (at most the file size) are addressable.
     * Callers serialise it (the table's space lock); readers see the new chunk array as a whole.
     */
    synchronized void ensureMapped(long end) {
        if (end <= mappedEnd) {
            return;
        }
        if (end > size) {
            throw new IllegalStateException("mapping past the end of the file: " + end + " > " + size);
        }
        int lastChunk = (int) ((size - 1 - DATA_START) / chunkSize);
        MemorySegment[] c = java.util.Arrays.copyOf(chunks, Math.max(chunks.length, lastChunk + 1));
        if (lastChunk >= arenas.length) {
            arenas = java.util.Arrays.copyOf(arenas, lastChunk + 1);
        }
        for (int i = 0; i <= lastChunk; i++) {
            long chunkStart = DATA_START + i * chunkSize;
            long length = Math.min(chunkSize, size - chunkStart);
            if (c[i] != null && c[i].byteSize() >= length) {
                continue;
            }
            Arena arena = Arena.ofShared();
            MemorySegment seg = map(chunkStart, length, arena);
            Arena old = arenas[i];
            c[i] = seg;
            arenas[i] = arena;
            if (old != null) {
                replaced.add(old); // someone may still read through it: closed with the file
            }
        }
        chunks = c;
        mappedEnd = size;
    }

    private MemorySegment map(long offset, long length, Arena arena) {
        try {
            MemorySegment seg = channel.map(writable ? FileChannel.MapMode.READ_WRITE : FileChannel.MapMode.READ_ONLY,
                    offset, length, arena);
            Native.adviseRandom(seg);
            return seg;
        } catch (IOException | RuntimeException e) {
            arena.close();
            throw HashIndexException.io(path, "mapping " + length + " bytes at offset " + offset
                    + " (too little address space or too many mappings?)", e);
        }
    }

    /**
     * Flushes every mapped page to the storage device, then the file's metadata too (fsync): msync
     * writes the data only, and an inode left dirty by the time stamps that writes through the mapping
     * update stays on the kernel's dirty list with the age of its first change, so 30 seconds later
     * the kernel writes back every page a writer dirties as soon as it is dirtied (measured: 300 MB/s
     * of writeback and half of both cores in the kernel beside a writer of random keys).
     */
    void force() {
        header.force();
        for (MemorySegment c : chunks) {
            if (c != null) {
                c.force();
            }
        }
        if (writable) {
            try {
                channel.force(true);
            } catch (IOException e) {
                throw HashIndexException.io(path, "forcing the file and its metadata to the disk", e);
            }
        }
    }

    /**
     * Unmaps everything. A lock-free reader still reading then gets an IllegalStateException from the
     * closed arena (the JDK's handshake makes that safe, never a fault), which it reports as CLOSED.
     */
    @Override
    public synchronized void close() {
        closed = true;
        chunks = new MemorySegment[0];
        for (Arena a : arenas) {
            if (a != null) {
                a.close();
            }
        }
        for (Arena a : replaced) {
            a.close();
        }
        replaced.clear();
        headerArena.close();
        arenas = new Arena[0];
        handle.release();
        // only now: closing a descriptor of the file drops the process's locks on it (see Native)
        Native.close(allocationFd);
        allocationFd = -1;
    }
}
