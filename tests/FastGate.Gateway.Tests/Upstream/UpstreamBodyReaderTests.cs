using System.Buffers;
using System.Text;
using FastGate.Gateway.Upstream;
using FastGate.Protocols.Http1;

namespace FastGate.Gateway.Tests.Upstream;

public sealed class UpstreamBodyReaderTests
{
    /// <summary>Feeds <paramref name="wire"/> cut at <paramref name="cut"/>, as two reads; returns the body read.</summary>
    private static (string Body, UpstreamBodyStatus Last) ReadAll(ResponseFraming framing, long contentLength, string wire, int cut, bool closeAfter)
    {
        var reader = default(UpstreamBodyReader);
        reader.Begin(framing, contentLength);
        var body = new StringBuilder();
        byte[] bytes = Encoding.ASCII.GetBytes(wire);
        var pending = Array.Empty<byte>();
        var status = UpstreamBodyStatus.NeedMore;
        foreach (var (piece, completed) in new[] { (bytes[..cut], false), (bytes[cut..], closeAfter) })
        {
            var input = new ReadOnlySequence<byte>([.. pending, .. piece]);
            while (true)
            {
                status = reader.Read(input, completed, out var data, out var consumed);
                input = input.Slice(consumed);
                if (status == UpstreamBodyStatus.Data)
                {
                    body.Append(Encoding.ASCII.GetString(data.ToArray()));
                    if (!reader.IsComplete)
                    {
                        continue;
                    }

                    status = UpstreamBodyStatus.Complete;
                }

                break;
            }

            pending = input.ToArray();
            if (status is UpstreamBodyStatus.Complete or UpstreamBodyStatus.Truncated)
            {
                break;
            }
        }

        return (body.ToString(), status);
    }

    [Fact]
    public void Content_length_body_at_every_cut()
    {
        const string Wire = "hello, world";
        for (int cut = 0; cut <= Wire.Length; cut++)
        {
            Assert.Equal(("hello, world", UpstreamBodyStatus.Complete), ReadAll(ResponseFraming.ContentLength, 12, Wire + "EXTRA", cut, closeAfter: false));
        }
    }

    [Fact]
    public void Chunked_body_at_every_cut()
    {
        const string Wire = "5\r\nhello\r\n7\r\n, world\r\n0\r\nx-trailer: 1\r\n\r\n";
        for (int cut = 0; cut <= Wire.Length; cut++)
        {
            Assert.Equal(("hello, world", UpstreamBodyStatus.Complete), ReadAll(ResponseFraming.Chunked, -1, Wire, cut, closeAfter: false));
        }
    }

    [Fact]
    public void Close_delimited_body_ends_with_the_close()
    {
        Assert.Equal(("all of it", UpstreamBodyStatus.Complete), ReadAll(ResponseFraming.CloseDelimited, -1, "all of it", 4, closeAfter: true));
    }

    [Fact]
    public void Close_before_the_declared_length_is_truncated()
    {
        Assert.Equal(("short", UpstreamBodyStatus.Truncated), ReadAll(ResponseFraming.ContentLength, 10, "short", 2, closeAfter: true));
        Assert.Equal(("hello", UpstreamBodyStatus.Truncated), ReadAll(ResponseFraming.Chunked, -1, "5\r\nhello\r\n", 3, closeAfter: true));
    }

    [Fact]
    public void No_body_and_zero_length_are_complete_at_once()
    {
        var reader = default(UpstreamBodyReader);
        reader.Begin(ResponseFraming.NoBody, 100);
        Assert.True(reader.IsComplete);
        reader.Begin(ResponseFraming.ContentLength, 0);
        Assert.True(reader.IsComplete);
        Assert.Equal(UpstreamBodyStatus.Complete, reader.Read(new ReadOnlySequence<byte>("x"u8.ToArray()), false, out _, out _));
    }

    [Fact]
    public void Malformed_chunk_line_throws()
    {
        var reader = default(UpstreamBodyReader);
        reader.Begin(ResponseFraming.Chunked, -1);
        Assert.Throws<Http1ParseException>(() => reader.Read(new ReadOnlySequence<byte>("zz\r\nhello\r\n"u8.ToArray()), false, out _, out _));
    }
}
