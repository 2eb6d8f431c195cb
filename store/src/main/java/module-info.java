/** The hashidx storage engine. */
module io.hashidx.store {
    // com.sun.nio.file.ExtendedOpenOption.DIRECT only (the bulk builder's O_DIRECT writes, BulkFiles.openDirect):
    // a module of every JDK image, not a dependency
    requires jdk.unsupported;

    exports io.hashidx.store;
}
