using BenchmarkDotNet.Attributes;
using FastGate.Gateway.Composition;

namespace FastGate.Benchmarks.Composition;

/// <summary>
/// The incremental JSON validator alone over a document fed in 4 KiB blocks (as the merger's window
/// receives them), against System.Text.Json's own single-pass reader as the baseline.
/// </summary>
[MemoryDiagnoser]
public class JsonStreamValidatorBenchmarks
{
    [Params(1024, 64 * 1024)]
    public int Size { get; set; }

    private byte[] _json = [];

    [GlobalSetup]
    public void Setup()
    {
        var text = new System.Text.StringBuilder("{\"items\":[");
        for (int i = 0; text.Length < Size - 40; i++)
        {
            text.Append(i == 0 ? "" : ",").Append("{\"id\":").Append(i).Append(",\"name\":\"item ").Append(i).Append("\"}");
        }

        _json = System.Text.Encoding.UTF8.GetBytes(text.Append("]}").ToString());
    }

    [Benchmark(Baseline = true)]
    public int Utf8JsonReaderOnePass()
    {
        var reader = new System.Text.Json.Utf8JsonReader(_json);
        int tokens = 0;
        while (reader.Read())
        {
            tokens++;
        }

        return tokens;
    }

    [Benchmark]
    public int ValidateIn4KiBBlocks()
    {
        var validator = JsonStreamValidator.Create();
        int scanned = 0;
        for (int end = Math.Min(4096, _json.Length); ; end = Math.Min(end + 4096, _json.Length))
        {
            bool final = end == _json.Length;
            if (validator.Validate(_json.AsSpan(scanned, end - scanned), final, out int consumed) != JsonValidation.NeedMore)
            {
                return scanned + consumed;
            }

            scanned += consumed;
        }
    }
}
