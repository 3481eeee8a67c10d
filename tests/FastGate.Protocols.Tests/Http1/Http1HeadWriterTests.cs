using System.Buffers;
using FastGate.Protocols.Http1;

namespace FastGate.Protocols.Tests.Http1;

public class Http1HeadWriterTests
{
    [Theory]
    [InlineData(1L, "1\r\n")]
    [InlineData(255L, "ff\r\n")]
    [InlineData(4096L, "1000\r\n")]
    [InlineData(long.MaxValue, "7fffffffffffffff\r\n")]
    public void Writes_chunk_header_in_lower_case_hex(long size, string expected)
    {
        var writer = new ArrayBufferWriter<byte>();
        Http1HeadWriter.WriteChunkHeader(writer, size);
        Assert.Equal(expected, TestInput.Text(writer.WrittenSpan));
    }

    [Fact]
    public void Refuses_an_empty_chunk_header_which_would_end_the_body()
        => Assert.Throws<ArgumentOutOfRangeException>(() => Http1HeadWriter.WriteChunkHeader(new ArrayBufferWriter<byte>(), 0));

    [Fact]
    public void Written_chunked_body_decodes_back()
    {
        var writer = new ArrayBufferWriter<byte>();
        Http1HeadWriter.WriteChunkHeader(writer, 5);
        writer.Write("hello"u8);
        Http1HeadWriter.WriteChunkEnd(writer);
        Http1HeadWriter.WriteChunkTerminator(writer);
        Assert.Equal("5\r\nhello\r\n0\r\n\r\n", TestInput.Text(writer.WrittenSpan));

        var decoder = new Http1ChunkedDecoder();
        var reader = new SequenceReader<byte>(new ReadOnlySequence<byte>(writer.WrittenMemory));
        Assert.Equal(Http1ChunkedStatus.Data, decoder.Read(ref reader, out _));
        Assert.Equal(Http1ChunkedStatus.Completed, decoder.Read(ref reader, out _));
    }

    [Fact]
    public void Writes_request_line_fields_and_end_of_head()
    {
        var writer = new ArrayBufferWriter<byte>();
        Http1HeadWriter.WriteRequestLine(writer, "GET"u8, "/a?b=c"u8);
        Http1HeadWriter.WriteHeader(writer, "Host"u8, "example.com"u8);
        Http1HeadWriter.WriteHeader(writer, "Content-Length"u8, []);
        writer.Advance(0);
        Http1HeadWriter.WriteHeadEnd(writer);
        Assert.Equal("GET /a?b=c HTTP/1.1\r\nHost: example.com\r\nContent-Length: \r\n\r\n", TestInput.Text(writer.WrittenSpan));
    }

    [Theory]
    [InlineData(0L, "0")]
    [InlineData(42L, "42")]
    [InlineData(long.MaxValue, "9223372036854775807")]
    public void Writes_decimal(long value, string expected)
    {
        var writer = new ArrayBufferWriter<byte>();
        Http1HeadWriter.WriteDecimal(writer, value);
        Assert.Equal(expected, TestInput.Text(writer.WrittenSpan));

        Span<byte> small = stackalloc byte[2];
        Assert.Equal(expected.Length <= 2, Http1HeadWriter.TryWriteDecimal(small, value, out int written));
        if (expected.Length <= 2)
        {
            Assert.Equal(expected, TestInput.Text(small[..written]));
        }
    }

    [Theory]
    [InlineData(200, "HTTP/1.1 200 OK\r\n")]
    [InlineData(404, "HTTP/1.1 404 Not Found\r\n")]
    [InlineData(503, "HTTP/1.1 503 Service Unavailable\r\n")]
    [InlineData(431, "HTTP/1.1 431 Request Header Fields Too Large\r\n")]
    public void Returns_pre_encoded_status_lines(int code, string expected)
        => Assert.Equal(expected, TestInput.Text(Http1HeadWriter.StatusLine(code)));

    [Theory]
    [InlineData(299)]
    [InlineData(999)]
    [InlineData(100000)]
    public void Has_no_table_entry_for_rare_codes(int code) => Assert.True(Http1HeadWriter.StatusLine(code).IsEmpty);

    [Theory]
    [InlineData(299, "HTTP/1.1 299 \r\n")]
    [InlineData(999, "HTTP/1.1 999 \r\n")]
    [InlineData(200, "HTTP/1.1 200 OK\r\n")]
    public void Formats_rare_codes_into_scratch(int code, string expected)
    {
        Span<byte> scratch = stackalloc byte[Http1HeadWriter.FormattedStatusLineLength];
        Assert.Equal(expected, TestInput.Text(Http1HeadWriter.StatusLine(code, scratch)));
    }

    [Theory]
    [InlineData(99)]
    [InlineData(1000)]
    public void Refuses_codes_that_are_not_three_digits(int code)
        => Assert.Throws<ArgumentOutOfRangeException>(() => Http1HeadWriter.StatusLine(code, new byte[Http1HeadWriter.FormattedStatusLineLength]).Length);

    [Fact]
    public void Trailer_part_drops_connection_specific_fields_in_every_segment_shape()
    {
        byte[] lines = TestInput.Bytes("X-A: 1\r\nConnection: close\r\nTE: trailers\r\nx-b:2\r\nTransfer-Encoding: chunked\r\n");
        foreach (var sequence in TestInput.AllShapes(lines))
        {
            var writer = new ArrayBufferWriter<byte>();
            bool lastChunkWritten = false;
            Http1HeadWriter.WriteTrailerPart(writer, sequence, ref lastChunkWritten, end: true);
            Assert.True(lastChunkWritten);
            Assert.Equal("0\r\nX-A: 1\r\nx-b:2\r\n\r\n", TestInput.Text(writer.WrittenSpan));
        }
    }

    [Fact]
    public void Trailer_parts_write_the_last_chunk_once()
    {
        var writer = new ArrayBufferWriter<byte>();
        bool lastChunkWritten = false;
        Http1HeadWriter.WriteTrailerPart(writer, TestInput.Single(TestInput.Bytes("A: 1\r\n")), ref lastChunkWritten, end: false);
        Http1HeadWriter.WriteTrailerPart(writer, TestInput.Single(TestInput.Bytes("B: 2\r\n")), ref lastChunkWritten, end: true);
        Assert.Equal("0\r\nA: 1\r\nB: 2\r\n\r\n", TestInput.Text(writer.WrittenSpan));
    }
}
