/** The hashidx storage engine. */
module io.hashidx.store {
    exports io.hashidx.store;
}
