using System.Buffers;
using System.Text;
using BenchmarkDotNet.Attributes;
using FastGate.Protocols.Hpack;

namespace FastGate.Benchmarks.Hpack;

/// <summary>
/// Decoding a browser's request header block (16 fields, ~700 octets of names and values): the first
/// request of a connection with and without Huffman (every field a literal, inserted into the dynamic
/// table), and the second request (the table warm: almost every field one index octet).
/// </summary>
[MemoryDiagnoser]
public class HpackDecoderBenchmarks
{
    private static readonly (string Name, string Value)[] BrowserRequest =
    [
        (":method", "GET"),
        (":scheme", "https"),
        (":authority", "api.example.com"),
        (":path", "/api/users/12345/orders?page=2&sort=desc"),
        ("user-agent", "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36"),
        ("accept", "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8"),
        ("accept-language", "en-GB,en;q=0.9,fr;q=0.8"),
        ("accept-encoding", "gzip, deflate, br, zstd"),
        ("cookie", "session=8f3b2a9c4d1e6f7a0b5c; theme=dark; consent=1"),
        ("referer", "https://www.example.com/account/orders"),
        ("sec-fetch-dest", "document"),
        ("sec-fetch-mode", "navigate"),
        ("sec-fetch-site", "same-site"),
        ("sec-fetch-user", "?1"),
        ("upgrade-insecure-requests", "1"),
        ("priority", "u=0, i"),
    ];

    private HpackDecoder _coldRaw = null!;
    private HpackDecoder _coldHuffman = null!;
    private HpackDecoder _warm = null!;
    private ReadOnlySequence<byte> _rawBlock;
    private ReadOnlySequence<byte> _huffmanBlock;
    private ReadOnlySequence<byte> _warmBlock;

    [GlobalSetup]
    public void Setup()
    {
        _rawBlock = new ReadOnlySequence<byte>(Encode(new HpackEncoder(useHuffman: false), 1)[0]);
        _huffmanBlock = new ReadOnlySequence<byte>(Encode(new HpackEncoder(), 1)[0]);
        byte[][] connection = Encode(new HpackEncoder(), 2);
        _warmBlock = new ReadOnlySequence<byte>(connection[1]);

        _coldRaw = new HpackDecoder();
        _coldHuffman = new HpackDecoder();
        _warm = new HpackDecoder();
        var handler = new CountingHandler();
        _warm.Decode(new ReadOnlySequence<byte>(connection[0]), endHeaders: true, ref handler);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _coldRaw.Dispose();
        _coldHuffman.Dispose();
        _warm.Dispose();
    }

    [Benchmark(Baseline = true)]
    public int FirstRequestRaw() => Decode(_coldRaw, _rawBlock);

    [Benchmark]
    public int FirstRequestHuffman() => Decode(_coldHuffman, _huffmanBlock);

    [Benchmark]
    public int SecondRequestWarmTable() => Decode(_warm, _warmBlock);

    private static int Decode(HpackDecoder decoder, in ReadOnlySequence<byte> block)
    {
        var handler = new CountingHandler();
        decoder.Decode(block, endHeaders: true, ref handler);
        return handler.Bytes;
    }

    /// <summary>The same request <paramref name="count"/> times on one connection.</summary>
    private static byte[][] Encode(HpackEncoder encoder, int count)
    {
        using (encoder)
        {
            var blocks = new byte[count][];
            for (int i = 0; i < count; i++)
            {
                var output = new ArrayBufferWriter<byte>();
                encoder.BeginHeaderBlock(output);
                foreach ((string name, string value) in BrowserRequest)
                {
                    encoder.EncodeHeader(Encoding.ASCII.GetBytes(name), Encoding.ASCII.GetBytes(value), output);
                }

                blocks[i] = output.WrittenSpan.ToArray();
            }

            return blocks;
        }
    }

    private struct CountingHandler : IHpackHeaderHandler
    {
        public int Bytes;

        public void OnHeader(ReadOnlySpan<byte> name, ReadOnlySpan<byte> value) => Bytes += name.Length + value.Length;
    }
}
