package io.hashidx.store;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.Map;

/**
 * {@link HashIndex#copyTo}: a copy of an index that another process may be writing, written beside
 * the target and given its name only when complete and forced to the disk (as the bulk builder
 * publishes, {@link BulkFiles}).
 *
 * <p>Two ways, and what "consistent" means for each (README, "Backups"):
 * <ul>
 *   <li><b>Point in time</b>, when no write can happen during the copy: the writing process itself
 *       copies while it holds off its own writes, and a read-only process copies while it holds
 *       writer processes out (possible when none is writing). The file's bytes up to the end of the
 *       last allocated cell are copied as they are; the copy is the file as a {@code kill -9} at that
 *       instant would have left it, so it opens, verifies, and holds exactly the entries of that instant.
 *   <li><b>Live</b>, when another process is writing: the entries are read with an iterator (which
 *       follows the writer's growth and keeps the arrays it reads from being reused) and bulk-built
 *       into a new file with the same widths and seed. The copy is a valid, compact file that passes
 *       verify; every entry that no write touched during the copy is in it with its value; every entry
 *       in it holds a value that its key had at some moment during the copy; an entry inserted, removed
 *       or overwritten during the copy may be in it or not. It is not a snapshot of one instant.
 * </ul>
 */
final class Backup {
    private Backup() {
    }

    static void refuseExisting(Path out) {
        if (Files.exists(out, LinkOption.NOFOLLOW_LINKS)) {
            throw HashIndexException.invalidArgument(out, "file already exists; a copy is written to a new file "
                    + "(delete it first, or choose another name)");
        }
    }

    /**
     * Copies the file's bytes up to the end of its allocated cells. The caller guarantees that nothing
     * writes the file meanwhile.
     */
    static HashIndex.CopyResult pointInTime(Path source, MappedFile file, Table table, Path out) {
        refuseExisting(out);
        long end = table.layout.endOfCells(table.h.allocatedCells);
        BulkFiles files = BulkFiles.forTarget(out);
        FileLocks.Handle temp = FileLocks.acquireTemporary(files.temp, true);
        boolean published = false;
        try {
            FileChannel from = file.handle().channel();
            FileChannel to = temp.channel();
            long at = 0;
            try {
                while (at < end) {
                    long n = from.transferTo(at, end - at, to);
                    if (n <= 0) {
                        throw new IOException("the source file ended at " + at + " bytes, before " + end);
                    }
                    at += n;
                }
                to.force(true);
            } catch (IOException e) {
                throw BulkFiles.writeFailed(files.temp, "copying " + end + " bytes of " + source + " (at " + at + ")", e);
            }
            files.publish();
            published = true;
        } finally {
            temp.release();
            if (!published) {
                BulkFiles.deleteQuietly(files.temp);
            }
        }
        return new HashIndex.CopyResult(out, table.count(), end, true);
    }

    /** Reads every entry with {@code entries} and bulk-builds them into {@code out}. */
    static HashIndex.CopyResult live(Header h, long size, Iterator<Map.Entry<byte[], byte[]>> entries, Path out) {
        refuseExisting(out);
        Options options = (h.variable() ? Options.variableLengths(h.keyWidth, h.valueWidth)
                : Options.widths(h.keyWidth, h.valueWidth)).seed(h.seed).expectedEntries(size).chunkSize(h.chunkSize);
        try (BulkBuilder builder = new BulkBuilder(out, options)) {
            while (entries.hasNext()) {
                Map.Entry<byte[], byte[]> e = entries.next();
                builder.add(e.getKey(), e.getValue());
            }
            BulkBuilder.Result r = builder.build();
            return new HashIndex.CopyResult(out, r.entries(), r.fileBytes(), false);
        }
    }

}
