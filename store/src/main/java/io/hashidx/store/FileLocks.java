package io.hashidx.store;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.HashMap;
import java.util.Map;

/**
 * One JVM-wide registry of open index files, and the locks that let one writer process and any number
 * of reader processes share a file (FORMAT.md section 11).
 *
 * <p>File locks are POSIX record locks: they belong to the process, and closing <em>any</em> channel
 * on the file in this JVM silently drops them. So every open of a file in this JVM goes through this
 * registry: one writer at a time holds its own channel, and nobody else in the JVM opens a channel
 * on that file while it is open for writing. Read-only opens in one JVM share one channel.
 *
 * <p>The locks are on two bytes far beyond the end of any file, so they never cover bytes that
 * another process reads through its channel:
 * <ul>
 *   <li>{@link #WRITER_BYTE}: the writer holds it exclusively, so two writers exclude each other (and
 *       a bulk build's or a compaction's file cannot be opened for writing while they hold it).
 *   <li>{@link #READERS_BYTE}: a reader registered in the reader table ({@link ReaderTable}) holds it
 *       shared. A writer that cannot open the reader table holds it exclusively, so that no reader
 *       it cannot see comes in; a reader that cannot open the table holds the writer byte shared
 *       instead, and keeps writers out while it reads.
 * </ul>
 * A process of an older hashidx locks the whole file, which covers both bytes.
 */
final class FileLocks {
    static final long WRITER_BYTE = 1L << 62;
    static final long READERS_BYTE = WRITER_BYTE + 1;

    private static final Map<Object, Entry> OPEN = new HashMap<>();

    private FileLocks() {
    }

    private static final class Entry {
        final Object key;
        final Path path;
        final FileChannel channel;
        final boolean writable;
        /** The writer byte (exclusive for a writer, shared for a reader without reader table), or null. */
        FileLock writerLock;
        /** The readers byte (shared for a registered reader, exclusive for a writer without reader table), or null. */
        FileLock readersLock;
        /** The reader table, or null when this entry could not open it. */
        ReaderTable readers;
        /** Handles of this entry that keep writers out for a while ({@link Handle#holdWritersOut}). */
        int holdingWritersOut;
        int users;
        /** More channels of the same file ({@link Handle#openAnotherChannel}), closed with it. */
        final java.util.List<FileChannel> others = new java.util.ArrayList<>();

        Entry(Object key, Path path, FileChannel channel, boolean writable) {
            this.key = key;
            this.path = path;
            this.channel = channel;
            this.writable = writable;
        }

        /** Releases every lock, closes the reader table and the channel. */
        void close() {
            for (FileLock l : new FileLock[] {writerLock, readersLock}) {
                if (l != null) {
                    try {
                        l.release();
                    } catch (IOException ignored) {
                        // closing the channel below releases it anyway
                    }
                }
            }
            if (readers != null) {
                readers.close();
            }
            try {
                channel.close();
            } catch (IOException ignored) {
                // nothing useful to do: the file is no longer used
            }
            for (FileChannel other : others) {
                try {
                    other.close();
                } catch (IOException ignored) {
                    // as above
                }
            }
        }
    }

    /** A reference to an open, locked channel; release it exactly once. */
    static final class Handle {
        private final Entry entry;
        private boolean released;
        /** Nested {@link #holdWritersOut} calls of this handle that are not ended yet. */
        private int holdsWritersOut;

        private Handle(Entry entry) {
            this.entry = entry;
        }

        FileChannel channel() {
            return entry.channel;
        }

        /**
         * Opens the file a second time ({@code O_DIRECT}, say) for as long as the file stays open: the
         * channel is closed with the file's own, under this registry's lock, because closing any channel
         * of a file drops every POSIX lock the process holds on it, and another handle of this JVM may
         * hold locks on the same file by then (a bulk build's temporary file, once renamed, is the target).
         */
        FileChannel openAnotherChannel(java.nio.file.OpenOption... options) throws IOException {
            synchronized (FileLocks.class) {
                if (released) {
                    throw new IllegalStateException("handle of " + entry.path + " already released");
                }
                FileChannel ch = FileChannel.open(entry.path, options);
                entry.others.add(ch);
                return ch;
            }
        }

        boolean writable() {
            return entry.writable;
        }

        /** The reader table of the file, or null when this process could not open it. */
        ReaderTable readers() {
            return entry.readers;
        }

        /**
         * For a read-only handle: keeps writer processes out until {@link #letWritersIn} (a shared lock
         * on the writer byte). False when a writer holds the file now.
         */
        boolean holdWritersOut() {
            synchronized (FileLocks.class) {
                if (holdsWritersOut > 0) {
                    holdsWritersOut++;
                    return true;
                }
                if (entry.writable) {
                    throw new IllegalStateException("a writer's handle keeps writers out already");
                }
                if (entry.writerLock == null) {
                    try {
                        entry.writerLock = entry.channel.tryLock(WRITER_BYTE, 1, true);
                    } catch (IOException | OverlappingFileLockException e) {
                        throw HashIndexException.io(entry.path, "locking the file", e);
                    }
                    if (entry.writerLock == null) {
                        return false;
                    }
                }
                entry.holdingWritersOut++;
                holdsWritersOut = 1;
                return true;
            }
        }

        /** Ends {@link #holdWritersOut}. */
        void letWritersIn() {
            synchronized (FileLocks.class) {
                if (holdsWritersOut == 0 || --holdsWritersOut > 0) {
                    return;
                }
                if (--entry.holdingWritersOut == 0 && entry.readers != null && entry.writerLock != null) {
                    try {
                        entry.writerLock.release();
                    } catch (IOException ignored) {
                        // released with the channel at the latest
                    }
                    entry.writerLock = null;
                }
            }
        }

        void release() {
            synchronized (FileLocks.class) {
                if (released) {
                    return;
                }
                if (holdsWritersOut > 0) {
                    holdsWritersOut = 1;
                    letWritersIn();
                }
                released = true;
                if (--entry.users == 0) {
                    OPEN.remove(entry.key);
                    entry.close();
                }
            }
        }
    }

    private static Object fileKey(Path path) throws IOException {
        BasicFileAttributes a = Files.readAttributes(path, BasicFileAttributes.class);
        Object k = a.fileKey();
        return k != null ? k : path.toRealPath();
    }

    /**
     * Opens and locks {@code path}: for writing (with {@code create}, the file must not exist and is
     * created) or for reading. A writer also opens the reader table, so that it sees the readers.
     */
    static synchronized Handle acquire(Path path, boolean write, boolean create) {
        return acquire(path, write, create, true);
    }

    /**
     * Like {@link #acquire(Path, boolean, boolean)}, for a writer of a file that nobody reads with
     * HashIndex until it is renamed (a bulk build's temporary file): no reader table beside it.
     */
    static synchronized Handle acquireTemporary(Path path, boolean create) {
        return acquire(path, true, create, false);
    }

    private static Handle acquire(Path path, boolean write, boolean create, boolean readerTable) {
        try {
            if (create) {
                FileChannel ch = FileChannel.open(path, StandardOpenOption.CREATE_NEW, StandardOpenOption.READ,
                        StandardOpenOption.WRITE);
                return register(path, ch, fileKey(path), true, readerTable);
            }
            if (Files.isDirectory(path)) {
                throw HashIndexException.invalidArgument(path, "is a directory, not an index file; give the path of a .hidx file");
            }
            if (write && !writableByMode(path)) {
                throw HashIndexException.readOnlyFile(path, "its permissions allow no writing");
            }
            Object key = fileKey(path);
            Entry e = OPEN.get(key);
            if (e != null) {
                if (e.writable) {
                    throw HashIndexException.locked(path, "already open for writing in this JVM (share that "
                            + "HashIndex: it is thread-safe)");
                }
                if (write) {
                    throw HashIndexException.locked(path, "already open read-only in this JVM");
                }
                e.users++;
                return new Handle(e);
            }
            FileChannel ch = write
                    ? FileChannel.open(path, StandardOpenOption.READ, StandardOpenOption.WRITE)
                    : FileChannel.open(path, StandardOpenOption.READ);
            Handle handle = register(path, ch, key, write, readerTable);
            if (!key.equals(fileKey(path))) {
                // the path was renamed over while we opened it: try again on what it names now
                handle.release();
                return acquire(path, write, false, readerTable);
            }
            return handle;
        } catch (java.nio.file.FileAlreadyExistsException e) {
            throw HashIndexException.invalidArgument(path, "file already exists; open it, or delete it first to create a new index");
        } catch (NoSuchFileException e) {
            throw HashIndexException.invalidArgument(path, create
                    ? "the directory " + path.toAbsolutePath().getParent() + " does not exist; create it first"
                    : "no such file; create the index first (HashIndex.create / hashidx create)");
        } catch (java.nio.file.AccessDeniedException e) {
            if (write && !create && Files.isReadable(path)) {
                throw HashIndexException.readOnlyFile(path, "permission denied for writing");
            }
            throw HashIndexException.io(path, "opening the file (permission denied" + (write ? "; open it read-only?" : "") + ")", e);
        } catch (IOException e) {
            throw HashIndexException.io(path, "opening the file", e);
        }
    }

    /**
     * Takes the locks of a writer or a reader on a newly opened channel (closing it on failure) and
     * records the entry. A writer: the writer byte, exclusive; then the reader table, or else the
     * readers byte, exclusive. A reader: the reader table and the readers byte, shared; or else the
     * writer byte, shared.
     */
    private static Handle register(Path path, FileChannel ch, Object key, boolean write, boolean readerTable)
            throws IOException {
        Entry entry = new Entry(key, path, ch, write);
        try {
            if (write) {
                entry.writerLock = tryLock(path, ch, WRITER_BYTE, false);
                if (entry.writerLock == null) {
                    throw HashIndexException.locked(path, "another process has the file open for writing (or reads it "
                            + "without the reader table " + ReaderTable.pathFor(path).getFileName()
                            + ", or is an older hashidx)");
                }
                entry.readers = readerTable ? ReaderTable.open(path) : null;
                if (entry.readers == null) {
                    entry.readersLock = tryLock(path, ch, READERS_BYTE, false);
                    if (entry.readersLock == null) {
                        throw HashIndexException.locked(path, "processes read the file and this process cannot open "
                                + "the reader table " + ReaderTable.pathFor(path) + " for writing (make it and its "
                                + "directory writable)");
                    }
                }
            } else {
                entry.readers = ReaderTable.open(path);
                if (entry.readers != null) {
                    entry.readersLock = tryLock(path, ch, READERS_BYTE, true);
                    if (entry.readersLock == null) {
                        throw HashIndexException.locked(path, "another process writes the file without the reader "
                                + "table (it could not open " + ReaderTable.pathFor(path).getFileName() + ")");
                    }
                } else {
                    entry.writerLock = tryLock(path, ch, WRITER_BYTE, true);
                    if (entry.writerLock == null) {
                        throw HashIndexException.locked(path, "another process has the file open for writing, and "
                                + "reading beside it needs the reader table " + ReaderTable.pathFor(path)
                                + ", which this process cannot open for writing (make the directory writable)");
                    }
                }
            }
        } catch (RuntimeException e) {
            entry.close();
            throw e;
        }
        entry.users = 1;
        OPEN.put(key, entry);
        return new Handle(entry);
    }

    private static FileLock tryLock(Path path, FileChannel ch, long at, boolean shared) {
        try {
            return ch.tryLock(at, 1, shared);
        } catch (IOException | OverlappingFileLockException e) {
            throw HashIndexException.io(path, "locking the file", e);
        }
    }

    /**
     * False when the file's permission bits grant no write access at all (r--r--r--). Checked by mode,
     * not by access(2), so that a read-only file is refused also for root, who may write anything.
     */
    private static boolean writableByMode(Path path) throws IOException {
        try {
            return Files.getPosixFilePermissions(path).stream().anyMatch(p -> p.name().endsWith("_WRITE"));
        } catch (UnsupportedOperationException e) {
            return Files.isWritable(path);
        }
    }
}
