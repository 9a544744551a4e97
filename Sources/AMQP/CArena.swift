import CRabbitMQ
import Foundation

/// Memory for the C structures of one outgoing frame: strings, tables and properties.
///
/// Backed by an `amqp_pool_t`; everything allocated is valid until `reset()`. Used only on the
/// connection's I/O thread, so it needs no locking.
final class CArena {
    private let pool: UnsafeMutablePointer<amqp_pool_t>

    init(blockSize: Int = 16 * 1024) {
        pool = .allocate(capacity: 1)
        init_amqp_pool(pool, blockSize)
    }

    deinit {
        empty_amqp_pool(pool)
        pool.deallocate()
    }

    /// Frees what was allocated but keeps the blocks for reuse.
    func reset() { recycle_amqp_pool(pool) }

    func bytes(_ string: String) -> amqp_bytes_t {
        var utf8 = string.utf8CString
        return utf8.withUnsafeMutableBytes { raw in bytes(UnsafeRawBufferPointer(rebasing: raw.dropLast())) }
    }

    func bytes(_ array: [UInt8]) -> amqp_bytes_t {
        array.withUnsafeBytes { bytes($0) }
    }

    private func bytes(_ buffer: UnsafeRawBufferPointer) -> amqp_bytes_t {
        guard buffer.count > 0, let memory = amqp_pool_alloc(pool, buffer.count) else { return amqp_empty_bytes }
        memory.copyMemory(from: buffer.baseAddress!, byteCount: buffer.count)
        return amqp_bytes_t(len: buffer.count, bytes: memory)
    }

    func table(_ table: AMQPTable) -> amqp_table_t {
        guard !table.isEmpty else { return amqp_empty_table }
        let entries = allocate(amqp_table_entry_t.self, count: table.count)
        // Sorted keys make the encoding deterministic, which keeps tests and captures readable.
        for (index, key) in table.keys.sorted().enumerated() {
            entries[index] = amqp_table_entry_t(key: bytes(key), value: value(table[key]!))
        }
        return amqp_table_t(num_entries: Int32(table.count), entries: entries)
    }

    func value(_ value: AMQPFieldValue) -> amqp_field_value_t {
        var field = amqp_field_value_t()
        func set(_ kind: amqp_field_value_kind_t) { field.kind = UInt8(kind.rawValue) }
        switch value {
        case .bool(let v):
            set(AMQP_FIELD_KIND_BOOLEAN)
            field.value.boolean = v ? 1 : 0
        case .int8(let v):
            set(AMQP_FIELD_KIND_I8)
            field.value.i8 = v
        case .uint8(let v):
            set(AMQP_FIELD_KIND_U8)
            field.value.u8 = v
        case .int16(let v):
            set(AMQP_FIELD_KIND_I16)
            field.value.i16 = v
        case .uint16(let v):
            set(AMQP_FIELD_KIND_U16)
            field.value.u16 = v
        case .int32(let v):
            set(AMQP_FIELD_KIND_I32)
            field.value.i32 = v
        case .uint32(let v):
            set(AMQP_FIELD_KIND_U32)
            field.value.u32 = v
        case .int64(let v):
            set(AMQP_FIELD_KIND_I64)
            field.value.i64 = v
        case .uint64(let v):
            set(AMQP_FIELD_KIND_U64)
            field.value.u64 = v
        case .float(let v):
            set(AMQP_FIELD_KIND_F32)
            field.value.f32 = v
        case .double(let v):
            set(AMQP_FIELD_KIND_F64)
            field.value.f64 = v
        case .decimal(let scale, let v):
            set(AMQP_FIELD_KIND_DECIMAL)
            field.value.decimal = amqp_decimal_t(decimals: scale, value: v)
        case .string(let v):
            set(AMQP_FIELD_KIND_UTF8)
            field.value.bytes = bytes(v)
        case .bytes(let v):
            set(AMQP_FIELD_KIND_BYTES)
            field.value.bytes = bytes(v)
        case .table(let v):
            set(AMQP_FIELD_KIND_TABLE)
            field.value.table = table(v)
        case .timestamp(let v):
            set(AMQP_FIELD_KIND_TIMESTAMP)
            field.value.u64 = UInt64(amqpTimestamp: v)
        case .void: set(AMQP_FIELD_KIND_VOID)
        case .array(let values):
            set(AMQP_FIELD_KIND_ARRAY)
            let entries = allocate(amqp_field_value_t.self, count: values.count)
            for (index, element) in values.enumerated() { entries[index] = self.value(element) }
            field.value.array = amqp_array_t(num_entries: Int32(values.count), entries: values.isEmpty ? nil : entries)
        }
        return field
    }

    func properties(_ properties: AMQPProperties) -> amqp_basic_properties_t {
        var c = amqp_basic_properties_t()
        var flags: amqp_flags_t = 0
        func string(_ value: String?, _ flag: Int32, _ assign: (amqp_bytes_t) -> Void) {
            guard let value else { return }
            flags |= amqp_flags_t(flag)
            assign(bytes(value))
        }
        string(properties.contentType, AMQP_BASIC_CONTENT_TYPE_FLAG) { c.content_type = $0 }
        string(properties.contentEncoding, AMQP_BASIC_CONTENT_ENCODING_FLAG) { c.content_encoding = $0 }
        string(properties.correlationID, AMQP_BASIC_CORRELATION_ID_FLAG) { c.correlation_id = $0 }
        string(properties.replyTo, AMQP_BASIC_REPLY_TO_FLAG) { c.reply_to = $0 }
        string(properties.expiration, AMQP_BASIC_EXPIRATION_FLAG) { c.expiration = $0 }
        string(properties.messageID, AMQP_BASIC_MESSAGE_ID_FLAG) { c.message_id = $0 }
        string(properties.type, AMQP_BASIC_TYPE_FLAG) { c.type = $0 }
        string(properties.userID, AMQP_BASIC_USER_ID_FLAG) { c.user_id = $0 }
        string(properties.appID, AMQP_BASIC_APP_ID_FLAG) { c.app_id = $0 }
        if !properties.headers.isEmpty {
            flags |= amqp_flags_t(AMQP_BASIC_HEADERS_FLAG)
            c.headers = table(properties.headers)
        }
        if let persistent = properties.persistent {
            flags |= amqp_flags_t(AMQP_BASIC_DELIVERY_MODE_FLAG)
            c.delivery_mode = persistent ? 2 : 1
        }
        if let priority = properties.priority {
            flags |= amqp_flags_t(AMQP_BASIC_PRIORITY_FLAG)
            c.priority = priority
        }
        if let timestamp = properties.timestamp {
            flags |= amqp_flags_t(AMQP_BASIC_TIMESTAMP_FLAG)
            c.timestamp = UInt64(amqpTimestamp: timestamp)
        }
        c._flags = flags
        return c
    }

    private func allocate<T>(_ type: T.Type, count: Int) -> UnsafeMutablePointer<T> {
        let raw = amqp_pool_alloc(pool, MemoryLayout<T>.stride * max(count, 1))!
        return raw.bindMemory(to: T.self, capacity: max(count, 1))
    }
}

extension UInt64 {
    /// Whole seconds since 1970 for the wire, saturating: a date read from a hostile peer (year 10^12, or
    /// a NaN) is written back as the nearest representable timestamp instead of trapping.
    init(amqpTimestamp date: Date) {
        let seconds = date.timeIntervalSince1970
        self = seconds.isNaN ? 0 : UInt64(exactly: seconds.rounded(.down)) ?? (seconds < 0 ? 0 : .max)
    }
}

// Decoding: C structures owned by librabbitmq are copied into Swift values at once.

extension String {
    init(amqp bytes: amqp_bytes_t) {
        guard bytes.len > 0, let base = bytes.bytes else {
            self = ""
            return
        }
        self = String(decoding: UnsafeRawBufferPointer(start: base, count: bytes.len), as: UTF8.self)
    }
}

extension Array where Element == UInt8 {
    init(amqp bytes: amqp_bytes_t) {
        guard bytes.len > 0, let base = bytes.bytes else {
            self = []
            return
        }
        self = Array(UnsafeRawBufferPointer(start: base, count: bytes.len))
    }
}

extension AMQPFieldValue {
    init(amqp field: amqp_field_value_t) {
        switch amqp_field_value_kind_t(rawValue: UInt32(field.kind)) {
        case AMQP_FIELD_KIND_BOOLEAN: self = .bool(field.value.boolean != 0)
        case AMQP_FIELD_KIND_I8: self = .int8(field.value.i8)
        case AMQP_FIELD_KIND_U8: self = .uint8(field.value.u8)
        case AMQP_FIELD_KIND_I16: self = .int16(field.value.i16)
        case AMQP_FIELD_KIND_U16: self = .uint16(field.value.u16)
        case AMQP_FIELD_KIND_I32: self = .int32(field.value.i32)
        case AMQP_FIELD_KIND_U32: self = .uint32(field.value.u32)
        case AMQP_FIELD_KIND_I64: self = .int64(field.value.i64)
        case AMQP_FIELD_KIND_U64: self = .uint64(field.value.u64)
        case AMQP_FIELD_KIND_F32: self = .float(field.value.f32)
        case AMQP_FIELD_KIND_F64: self = .double(field.value.f64)
        case AMQP_FIELD_KIND_DECIMAL: self = .decimal(scale: field.value.decimal.decimals, value: field.value.decimal.value)
        case AMQP_FIELD_KIND_UTF8: self = .string(String(amqp: field.value.bytes))
        case AMQP_FIELD_KIND_BYTES: self = .bytes([UInt8](amqp: field.value.bytes))
        case AMQP_FIELD_KIND_TABLE: self = .table(AMQPTable(amqp: field.value.table))
        case AMQP_FIELD_KIND_TIMESTAMP: self = .timestamp(Date(timeIntervalSince1970: TimeInterval(field.value.u64)))
        case AMQP_FIELD_KIND_ARRAY:
            let array = field.value.array
            self = .array((0..<Int(array.num_entries)).map { AMQPFieldValue(amqp: array.entries[$0]) })
        default: self = .void
        }
    }
}

extension Dictionary where Key == String, Value == AMQPFieldValue {
    init(amqp table: amqp_table_t) {
        self.init(minimumCapacity: Int(table.num_entries))
        for index in 0..<Int(table.num_entries) {
            let entry = table.entries[index]
            self[String(amqp: entry.key)] = AMQPFieldValue(amqp: entry.value)
        }
    }
}

extension AMQPProperties {
    init(amqp c: amqp_basic_properties_t) {
        let flags = c._flags
        func has(_ flag: Int32) -> Bool { flags & amqp_flags_t(flag) != 0 }
        func string(_ flag: Int32, _ value: amqp_bytes_t) -> String? { has(flag) ? String(amqp: value) : nil }
        self.init(
            contentType: string(AMQP_BASIC_CONTENT_TYPE_FLAG, c.content_type),
            contentEncoding: string(AMQP_BASIC_CONTENT_ENCODING_FLAG, c.content_encoding),
            headers: has(AMQP_BASIC_HEADERS_FLAG) ? AMQPTable(amqp: c.headers) : [:],
            persistent: has(AMQP_BASIC_DELIVERY_MODE_FLAG) ? c.delivery_mode == 2 : nil,
            priority: has(AMQP_BASIC_PRIORITY_FLAG) ? c.priority : nil,
            correlationID: string(AMQP_BASIC_CORRELATION_ID_FLAG, c.correlation_id),
            replyTo: string(AMQP_BASIC_REPLY_TO_FLAG, c.reply_to),
            expiration: string(AMQP_BASIC_EXPIRATION_FLAG, c.expiration),
            messageID: string(AMQP_BASIC_MESSAGE_ID_FLAG, c.message_id),
            timestamp: has(AMQP_BASIC_TIMESTAMP_FLAG) ? Date(timeIntervalSince1970: TimeInterval(c.timestamp)) : nil,
            type: string(AMQP_BASIC_TYPE_FLAG, c.type),
            userID: string(AMQP_BASIC_USER_ID_FLAG, c.user_id),
            appID: string(AMQP_BASIC_APP_ID_FLAG, c.app_id)
        )
    }
}
