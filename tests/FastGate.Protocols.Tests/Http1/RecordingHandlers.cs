using System.Text;
using FastGate.Protocols.Http1;

namespace FastGate.Protocols.Tests.Http1;

/// <summary>What a handler saw, rendered as one comparable string.</summary>
internal sealed class HeadRecording
{
    private readonly StringBuilder _text = new();

    public List<(string Name, string Value)> Headers { get; } = [];

    public int StartLines { get; set; }

    public void Add(string line) => _text.Append(line).Append('\n');

    public override string ToString() => _text.ToString();
}

internal struct RecordingRequestHandler : IHttp1RequestHeadHandler
{
    public RecordingRequestHandler() => Recording = new HeadRecording();

    public HeadRecording Recording { get; }

    public readonly void OnRequestLine(ReadOnlySpan<byte> method, ReadOnlySpan<byte> target, Http1Version version)
    {
        Recording.StartLines++;
        Recording.Add($"{TestInput.Text(method)} {TestInput.Text(target)} {version}");
    }

    public readonly void OnHeader(ReadOnlySpan<byte> name, ReadOnlySpan<byte> value)
    {
        Recording.Headers.Add((TestInput.Text(name), TestInput.Text(value)));
        Recording.Add($"{TestInput.Text(name)}=[{TestInput.Text(value)}]");
    }
}

internal struct RecordingResponseHandler : IHttp1ResponseHeadHandler
{
    public RecordingResponseHandler() => Recording = new HeadRecording();

    public HeadRecording Recording { get; }

    public readonly void OnStatusLine(Http1Version version, int statusCode, ReadOnlySpan<byte> reasonPhrase)
    {
        Recording.StartLines++;
        Recording.Add($"{version} {statusCode} [{TestInput.Text(reasonPhrase)}]");
    }

    public readonly void OnHeader(ReadOnlySpan<byte> name, ReadOnlySpan<byte> value)
    {
        Recording.Headers.Add((TestInput.Text(name), TestInput.Text(value)));
        Recording.Add($"{TestInput.Text(name)}=[{TestInput.Text(value)}]");
    }
}
