package io.hashidx.store;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * A run spilled to a temporary file: the records of a {@link MemoryRun}, partition after partition,
 * each partition in the order its records were added, written in one sequential pass. Where each
 * partition starts is kept in memory; the file holds nothing else and is deleted after the build.
 */
final class FileRun implements BulkRun {
    private final Path path;
    private final FileChannel channel;
    /** offsets[p] is where partition p starts; offsets[partitions] is the file size. */
    private final long[] offsets;

    private FileRun(Path path, FileChannel channel, long[] offsets) {
        this.path = path;
        this.channel = channel;
        this.offsets = offsets;
    }

    /**
     * Writes {@code run} to a new file at {@code path} through {@code staging} (a reused buffer); a
     * partition larger than the staging buffer gets a buffer of its own.
     */
    static FileRun spill(MemoryRun run, int partitions, Path path, MemorySegment staging) {
        FileChannel channel = null;
        try {
            channel = FileChannel.open(path, StandardOpenOption.CREATE_NEW, StandardOpenOption.READ,
                    StandardOpenOption.WRITE);
            long[] offsets = new long[partitions + 1];
            long position = 0;
            long filled = 0;
            for (int p = 0; p < partitions; p++) {
                offsets[p] = position + filled;
                long size = run.bytes(p);
                if (size == 0) {
                    continue;
                }
                if (filled + size > staging.byteSize()) {
                    position += write(channel, staging, filled, position);
                    filled = 0;
                }
                if (size > staging.byteSize()) {
                    try (Arena arena = Arena.ofConfined()) {
                        MemorySegment own = arena.allocate(size, 8);
                        run.copyPartition(p, own, 0);
                        position += write(channel, own, size, position);
                    }
                } else {
                    run.copyPartition(p, staging, filled);
                    filled += size;
                }
            }
            position += write(channel, staging, filled, position);
            offsets[partitions] = position;
            return new FileRun(path, channel, offsets);
        } catch (IOException e) {
            closeQuietly(channel);
            deleteQuietly(path);
            throw BulkFiles.writeFailed(path, "writing a temporary run", e);
        } catch (RuntimeException e) {
            closeQuietly(channel);
            deleteQuietly(path);
            throw e;
        }
    }

    private static long write(FileChannel channel, MemorySegment from, long length, long position) throws IOException {
        BulkFiles.writeFully(channel, from.asSlice(0, length), position);
        return length;
    }

    @Override
    public long bytes(int p) {
        return offsets[p + 1] - offsets[p];
    }

    @Override
    public long copyPartitions(int from, int to, MemorySegment dst, long at) {
        long length = offsets[to] - offsets[from];
        if (length == 0) {
            return 0;
        }
        ByteBuffer b = dst.asSlice(at, length).asByteBuffer();
        try {
            long position = offsets[from];
            while (b.hasRemaining()) {
                int n = channel.read(b, position);
                if (n < 0) {
                    throw new IOException("the run ends at " + position + ", before " + offsets[to]);
                }
                position += n;
            }
        } catch (IOException e) {
            throw HashIndexException.io(path, "reading a temporary run", e);
        }
        return length;
    }

    @Override
    public void close() {
        closeQuietly(channel);
        deleteQuietly(path);
    }

    private static void closeQuietly(FileChannel channel) {
        if (channel != null) {
            try {
                channel.close();
            } catch (IOException ignored) {
                // the file is deleted next; nothing else holds it
            }
        }
    }

    private static void deleteQuietly(Path path) {
        BulkFiles.deleteQuietly(path);
    }
}
