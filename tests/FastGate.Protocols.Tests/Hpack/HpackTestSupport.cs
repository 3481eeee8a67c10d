using System.Buffers;
using System.Text;
using FastGate.Protocols.Hpack;

namespace FastGate.Protocols.Tests.Hpack;

internal static class Hex
{
    public static byte[] Bytes(string hex)
    {
        string digits = new(hex.Where(Uri.IsHexDigit).ToArray());
        return Convert.FromHexString(digits);
    }

    public static string Of(ReadOnlySpan<byte> bytes) => Convert.ToHexString(bytes).ToLowerInvariant();
}

/// <summary>Collects decoded fields as Latin-1 strings.</summary>
internal struct RecordingHeaderHandler : IHpackHeaderHandler
{
    public RecordingHeaderHandler()
    {
    }

    public List<(string Name, string Value)> Headers { get; } = [];

    public readonly void OnHeader(ReadOnlySpan<byte> name, ReadOnlySpan<byte> value)
        => Headers.Add((Encoding.Latin1.GetString(name), Encoding.Latin1.GetString(value)));
}

/// <summary>Counts fields and bytes without allocating.</summary>
internal struct CountingHeaderHandler : IHpackHeaderHandler
{
    public int Count;
    public long Bytes;

    public void OnHeader(ReadOnlySpan<byte> name, ReadOnlySpan<byte> value)
    {
        Count++;
        Bytes += name.Length + value.Length;
    }
}

internal static class HpackTestExtensions
{
    public static List<(string Name, string Value)> DecodeAll(this HpackDecoder decoder, byte[] block)
    {
        var handler = new RecordingHeaderHandler();
        decoder.Decode(new ReadOnlySequence<byte>(block), endHeaders: true, ref handler);
        return handler.Headers;
    }

    public static List<(string Name, string Value)> Entries(this HpackDynamicTable table)
    {
        var entries = new List<(string, string)>();
        for (int i = 0; i < table.Count; i++)
        {
            entries.Add((Encoding.Latin1.GetString(table.Name(i)), Encoding.Latin1.GetString(table.Value(i))));
        }

        return entries;
    }

    public static byte[] EncodeBlock(this HpackEncoder encoder, params (string Name, string Value)[] headers)
    {
        var output = new ArrayBufferWriter<byte>();
        encoder.BeginHeaderBlock(output);
        foreach ((string name, string value) in headers)
        {
            encoder.EncodeHeader(Encoding.Latin1.GetBytes(name), Encoding.Latin1.GetBytes(value), output);
        }

        return output.WrittenSpan.ToArray();
    }
}
