using System.Text;
using System.Text.Json;
using FastGate.Gateway.Security;

namespace FastGate.Gateway.Tests.Security;

/// <summary>The fast JSON scanner's one-sided contract: "End" only where Utf8JsonReader reads the same members
/// from a valid document with unique names; and it does say "End" for the escape-free documents tokens carry.</summary>
public class JwtJsonMembersTests
{
    [Fact]
    public void Reports_every_top_level_member_with_its_kind_and_raw_value()
    {
        byte[] json = """ {"iss":"https://issuer.example", "aud" : ["a","b"],"exp":1764170000,"x":{"y":[1,{"z":null}]},"t":true,"f":false,"n":null,"d":-1.5e+3,"é":"ü"} """u8.ToArray();
        List<(string Name, JsonTokenType Kind, string Value)> members = Scan(json, out JwtJsonStep last);
        Assert.Equal(JwtJsonStep.End, last);
        Assert.Equal(
            new List<(string, JsonTokenType, string)>
            {
                ("iss", JsonTokenType.String, "https://issuer.example"),
                ("aud", JsonTokenType.StartArray, """["a","b"]"""),
                ("exp", JsonTokenType.Number, "1764170000"),
                ("x", JsonTokenType.StartObject, """{"y":[1,{"z":null}]}"""),
                ("t", JsonTokenType.True, "true"),
                ("f", JsonTokenType.False, "false"),
                ("n", JsonTokenType.Null, "null"),
                ("d", JsonTokenType.Number, "-1.5e+3"),
                ("é", JsonTokenType.String, "ü"),
            },
            members);
    }

    [Theory]
    [InlineData("{}")]
    [InlineData(" \t\r\n{ \n} \r\n")]
    [InlineData("""{"a":[]}""")]
    [InlineData("""{"a":{}}""")]
    [InlineData("""{"a":[[],{},[{}]]}""")]
    [InlineData("""{"a":0,"b":-0,"c":0.5,"d":1E9,"e":1e-9}""")]
    public void Accepts_valid_escape_free_objects(string json)
    {
        Scan(Encoding.UTF8.GetBytes(json), out JwtJsonStep last);
        Assert.Equal(JwtJsonStep.End, last);
    }

    [Theory]
    [InlineData("")]
    [InlineData("[]")]
    [InlineData("\"a\"")]
    [InlineData("\uFEFF{}")]
    [InlineData("{")]
    [InlineData("{}x")]
    [InlineData("{}{}")]
    [InlineData("""{"a":1,}""")]
    [InlineData("""{"a":1 "b":2}""")]
    [InlineData("""{"a"}""")]
    [InlineData("""{"a":}""")]
    [InlineData("""{a:1}""")]
    [InlineData("""{'a':1}""")]
    [InlineData("""{"a":[1,]}""")]
    [InlineData("""{"a":[1 2]}""")]
    [InlineData("""{"a":{"b":1,}}""")]
    [InlineData("""{"a":{"b"}}""")]
    [InlineData("""{"a":[}""")]
    [InlineData("""{"a":[1}""")]
    [InlineData("""{"a":{]}""")]
    [InlineData("""{"a":01}""")]
    [InlineData("""{"a":1.}""")]
    [InlineData("""{"a":.5}""")]
    [InlineData("""{"a":-}""")]
    [InlineData("""{"a":+1}""")]
    [InlineData("""{"a":1e}""")]
    [InlineData("""{"a":1x}""")]
    [InlineData("""{"a":tru}""")]
    [InlineData("""{"a":truex}""")]
    [InlineData("""{"a":NaN}""")]
    [InlineData("""{"a":"b}""")]
    [InlineData("""{"a":"b\"c"}""")]
    [InlineData("""{"a\u0062":1}""")]
    [InlineData("""{"a":["\n"]}""")]
    [InlineData("{\"a\":\"tab\there\"}")]
    [InlineData("""{"a":1,"a":2}""")]
    [InlineData("""{"iss":1,"aud":2,"iss":3}""")]
    [InlineData("""{"abcdefgh":1,"abcdefgh":2}""")]
    [InlineData("""{"abcdefghij":1,"b":0,"abcdefghij":2}""")]
    [InlineData("""{"":1,"":2}""")]
    [InlineData("""{"x":1,"x":2}""")]
    [InlineData("""{"a":1/*c*/}""")]
    public void Is_unsure_about_invalid_json_escapes_and_duplicates(string json)
    {
        Scan(Encoding.UTF8.GetBytes(json), out JwtJsonStep last);
        Assert.Equal(JwtJsonStep.Unsure, last);
    }

    /// <summary>The quote bitmap is built from whole words, from overlapping loads at the end, and from a padded
    /// copy for short documents: a backslash, a control character or a quote must be seen at every offset of
    /// every document length across those cases.</summary>
    [Fact]
    public void Sees_backslashes_control_characters_and_quotes_at_every_offset_of_every_length()
    {
        for (int length = 9; length <= 200; length++)
        {
            // {"a":"xxx...x"}: the string's content is [6, length - 2).
            byte[] json = Encoding.UTF8.GetBytes("{\"a\":\"" + new string('x', length - 8) + "\"}");
            Assert.Equal(length, json.Length);
            Assert.Single(Scan(json, out JwtJsonStep last));
            Assert.Equal(JwtJsonStep.End, last);
            for (int at = 6; at < length - 2; at++)
            {
                foreach (byte bad in "\\\t\u0001\""u8.ToArray())
                {
                    byte[] mutated = (byte[])json.Clone();
                    mutated[at] = bad;
                    Scan(mutated, out last);
                    Assert.True(last == JwtJsonStep.Unsure, $"length {length}, byte 0x{bad:X2} at {at}");
                }
            }
        }
    }

    [Fact]
    public void Tells_apart_names_that_share_their_first_eight_bytes_or_end_the_document()
    {
        List<(string Name, JsonTokenType Kind, string Value)> members = Scan(
            Encoding.UTF8.GetBytes("""{"abcdefgh1":1,"abcdefgh2":2,"abcdefgh":3,"abcdefg":4,"a":5,"b":6}"""), out JwtJsonStep last);
        Assert.Equal(JwtJsonStep.End, last);
        Assert.Equal(6, members.Count);
    }

    [Fact]
    public void Takes_arrays_of_strings_and_other_arrays_with_the_quotes_in_order()
    {
        // Arrays of strings are scanned by taking quotes in order; anything else in an array goes to the general
        // container scan, and the quotes after it must be picked up again where that scan ended, in any word.
        string longElement = new('e', 70);
        List<(string Name, JsonTokenType Kind, string Value)> members = Scan(
            Encoding.UTF8.GetBytes("{\"a\":[],\"b\":[ \"x\" , \"" + longElement + "\" ],\"c\":[\"x\",1,\"y\"],\"d\":\"z\",\"e\":[[\"q\"]],\"f\":\"w\"}"),
            out JwtJsonStep last);
        Assert.Equal(JwtJsonStep.End, last);
        Assert.Equal(
            new List<(string, JsonTokenType, string)>
            {
                ("a", JsonTokenType.StartArray, "[]"),
                ("b", JsonTokenType.StartArray, "[ \"x\" , \"" + longElement + "\" ]"),
                ("c", JsonTokenType.StartArray, "[\"x\",1,\"y\"]"),
                ("d", JsonTokenType.String, "z"),
                ("e", JsonTokenType.StartArray, "[[\"q\"]]"),
                ("f", JsonTokenType.String, "w"),
            },
            members);
    }

    [Theory]
    [InlineData("""{"a":["x",]}""")]
    [InlineData("""{"a":["x""y"]}""")]
    [InlineData("""{"a":["x"}""")]
    [InlineData("""{"a":1"","b":2}""")]
    [InlineData("{\"a\":\"x\"\"\",\"b\":2}")]
    [InlineData("""{"a":[1]"","b":2}""")]
    [InlineData("""{"a":"x"}"}""")]
    public void Is_unsure_of_a_quote_where_the_grammar_has_none(string json)
    {
        Scan(Encoding.UTF8.GetBytes(json), out JwtJsonStep last);
        Assert.Equal(JwtJsonStep.Unsure, last);
    }

    [Fact]
    public void Decides_only_valid_utf8()
    {
        // The quote pass flags bytes of 0x80 and above; only then is the document validated as UTF-8.
        byte[] valid = Encoding.UTF8.GetBytes("""{"name":"Zoë","x":"€"}""");
        Assert.Equal("Zoë", Scan(valid, out JwtJsonStep last)[0].Value);
        Assert.Equal(JwtJsonStep.End, last);

        foreach (byte[] invalid in (byte[][])[[.. "{\"a\":\""u8, 0xC3, .. "\"}"u8], [.. "{\"a\":\""u8, 0xFF, .. "\"}"u8], [.. "{\"a\":\""u8, 0xED, 0xA0, 0x80, .. "\"}"u8]])
        {
            Scan(invalid, out last);
            Assert.Equal(JwtJsonStep.Unsure, last);
        }

        // Past the first 64-byte word, in the last partial word, and in a document of one short word.
        foreach (int length in (int[])[10, 40, 70, 130])
        {
            byte[] json = [.. "{\"a\":\""u8, .. Enumerable.Repeat((byte)'v', length), 0x80, .. "\"}"u8];
            Scan(json, out last);
            Assert.Equal(JwtJsonStep.Unsure, last);
        }
    }

    [Fact]
    public void Finds_a_duplicate_among_many_names_and_among_long_names_sharing_a_prefix()
    {
        string names = string.Join(',', Enumerable.Range(0, 40).Select(i => $"\"claim-name-{i}\":{i}"));
        Scan(Encoding.UTF8.GetBytes("{" + names + "}"), out JwtJsonStep last);
        Assert.Equal(JwtJsonStep.End, last);
        foreach (int i in (int[])[0, 17, 39])
        {
            Scan(Encoding.UTF8.GetBytes("{" + names + $",\"claim-name-{i}\":0}}"), out last);
            Assert.Equal(JwtJsonStep.Unsure, last);
        }
    }

    [Fact]
    public void Finds_a_duplicate_at_every_pair_of_positions()
    {
        string[] names = ["aud", "iss", "exp", "iat", "nbf", "sub", "scope", "roles", "tenant", "email", "a-longer-claim-name", "x"];
        for (int i = 0; i < names.Length; i++)
        {
            for (int j = 0; j < names.Length; j++)
            {
                string[] copy = (string[])names.Clone();
                if (i != j)
                {
                    copy[j] = names[i];
                }

                string json = "{" + string.Join(',', copy.Select((name, k) => $"\"{name}\":{(k % 2 == 0 ? "\"v\"" : k.ToString(System.Globalization.CultureInfo.InvariantCulture))}")) + "}";
                List<(string Name, JsonTokenType Kind, string Value)> members = Scan(Encoding.UTF8.GetBytes(json), out JwtJsonStep last);
                Assert.True((i == j ? JwtJsonStep.End : JwtJsonStep.Unsure) == last, json);
                if (i == j)
                {
                    Assert.Equal(names, members.Select(member => member.Name));
                }
            }
        }
    }

    /// <summary>The member scan reads the document without bounds checks, relying on the object's '}' being its last
    /// byte but for whitespace: every cut of a document is read only up to the cut, though the rest of the document
    /// (or a closing brace) follows it in memory, where a read past the end would find a complete object.</summary>
    [Fact]
    public void Never_reads_past_the_end_of_a_document_cut_anywhere_with_its_rest_still_in_memory()
    {
        string[] documents =
        [
            """{"aud":"fastgate","iss":"https://issuer.example","exp":1795755773,"iat":1795752113,"roles":["reader","editor"],"n":-12.5e+3}""",
            """{"a":{"b":{"c":[1,{"d":null}]}},"t":true,"f":false,"z":0}""",
            """{"a":{"b":1}}""",
            """{"a":[]}""",
            """{"a":123456789012345678901}""",
            """{"s":["x","y"],"e":[],"o":{}}""",
            """ { "a" : [ "x" , "y" ] , "b" : { "c" : 1 } , "d" : 12345678 } """,
        ];
        foreach (string document in documents)
        {
            byte[] whole = Encoding.UTF8.GetBytes(document);
            Assert.Equal(ReadWithReader(whole), Scan(whole, out JwtJsonStep last));
            Assert.Equal(JwtJsonStep.End, last);
            for (int cut = 0; cut < whole.Length; cut++)
            {
                // The bytes after the cut: the document's own rest, or closing braces.
                byte[] braced = [.. whole.AsSpan(0, cut), .. "}}}}}}}}"u8];
                foreach (byte[] memory in (byte[][])[whole, braced])
                {
                    List<(string Name, JsonTokenType Kind, string Value)>? expected = ReadWithReaderOrNull(whole[..cut]);
                    List<(string Name, JsonTokenType Kind, string Value)> members = Scan(memory.AsSpan(0, cut), out last);
                    Assert.True((expected is null ? JwtJsonStep.Unsure : JwtJsonStep.End) == last, $"{cut}: {document}");
                    if (expected is not null)
                    {
                        Assert.Equal(expected, members);
                    }
                }
            }
        }
    }

    [Theory]
    [InlineData("""{"a":1} \r\n\t""", "End")]
    [InlineData("""{"a":"x"}  """, "End")]
    [InlineData("""{"a":{"b":1}}""", "End")]
    [InlineData("""{"a":{"b":1}""", "Unsure")]
    [InlineData("""{"a":{"b":{}}""", "Unsure")]
    [InlineData("""{"a":[{}]""", "Unsure")]
    [InlineData("""{"a":1} x""", "Unsure")]
    [InlineData("""{"a":1}\u000b""", "Unsure")]
    [InlineData("""{"a":1""", "Unsure")]
    [InlineData("""{"a":-""", "Unsure")]
    [InlineData("""{"a":1.""", "Unsure")]
    [InlineData("""{"a":1e""", "Unsure")]
    [InlineData("""{"a":"}""", "Unsure")]
    [InlineData("""{"a}""", "Unsure")]
    [InlineData("""{"a":[}""", "Unsure")]
    [InlineData("""{"a":["x"}""", "Unsure")]
    [InlineData("""{"a":-}""", "Unsure")]
    [InlineData("""{"a":1.}""", "Unsure")]
    [InlineData("""{"a":1e+}""", "Unsure")]
    [InlineData("}", "Unsure")]
    [InlineData(" }", "Unsure")]
    [InlineData("{}}", "Unsure")]
    [InlineData(" {} ", "End")]
    public void Ends_only_at_the_objects_own_closing_brace(string json, string expected)
    {
        byte[] bytes = Encoding.UTF8.GetBytes(json.Replace("\\r", "\r", StringComparison.Ordinal).Replace("\\n", "\n", StringComparison.Ordinal)
            .Replace("\\t", "\t", StringComparison.Ordinal).Replace("\\u000b", "\u000b", StringComparison.Ordinal));
        Scan(bytes, out JwtJsonStep last);
        Assert.Equal(Enum.Parse<JwtJsonStep>(expected), last);
        Assert.Equal(last == JwtJsonStep.End, ReadWithReaderOrNull(bytes) is not null);
    }

    [Fact]
    public void Is_unsure_past_its_nesting_and_member_limits()
    {
        Scan(Encoding.UTF8.GetBytes("{\"a\":" + new string('[', 32) + new string(']', 32) + "}"), out JwtJsonStep last);
        Assert.Equal(JwtJsonStep.End, last);
        Scan(Encoding.UTF8.GetBytes("{\"a\":" + new string('[', 33) + new string(']', 33) + "}"), out last);
        Assert.Equal(JwtJsonStep.Unsure, last);

        string members = string.Join(',', Enumerable.Range(0, JwtJsonMembers.MaxMembers).Select(i => $"\"m{i}\":{i}"));
        Scan(Encoding.UTF8.GetBytes("{" + members + "}"), out last);
        Assert.Equal(JwtJsonStep.End, last);
        Scan(Encoding.UTF8.GetBytes("{" + members + ",\"one-more\":0}"), out last);
        Assert.Equal(JwtJsonStep.Unsure, last);
    }

    [Theory]
    [InlineData(60)]
    [InlineData(62)]
    [InlineData(63)]
    [InlineData(64)]
    [InlineData(130)]
    public void Strings_and_whitespace_across_64_byte_words_are_told_apart(int length)
    {
        string longValue = new('v', length);
        List<(string Name, JsonTokenType Kind, string Value)> members = Scan(
            Encoding.UTF8.GetBytes("{\"a\":\"" + longValue + "\",\n\t\"b\" : [\"" + longValue + "\"]\r\n}\n"), out JwtJsonStep last);
        Assert.Equal(JwtJsonStep.End, last);
        Assert.Equal(longValue, members[0].Value);
        Assert.Equal("[\"" + longValue + "\"]", members[1].Value);

        // A line feed inside a string is a control character in every word it may fall in.
        for (int at = 0; at < length; at++)
        {
            string broken = longValue[..at] + "\n" + longValue[at..];
            Scan(Encoding.UTF8.GetBytes("{\"a\":\"" + broken + "\"}"), out last);
            Assert.Equal(JwtJsonStep.Unsure, last);
        }
    }

    [Fact]
    public void Array_strings_are_walked_in_order_and_a_non_string_element_is_reported()
    {
        Assert.Equal(["a", "", "b c"], Strings(""" [ "a" ,"", "b c" ] """.Trim(), out bool notString));
        Assert.False(notString);
        Assert.Empty(Strings("[ ]", out notString));
        Assert.False(notString);
        Assert.Equal(["a"], Strings("""["a",1,"b"]""", out notString));
        Assert.True(notString);
    }

    [Fact]
    public void Parses_eight_digits_at_a_time_and_refuses_any_other_byte()
    {
        var random = new Random(7519);
        for (int i = 0; i < 2_000; i++)
        {
            byte[] digits = Encoding.ASCII.GetBytes(random.Next(100_000_000).ToString("D8", System.Globalization.CultureInfo.InvariantCulture));
            Assert.True(JwtJsonMembers.TryParseEightDigits(BitConverter.ToUInt64(digits), out uint value));
            Assert.Equal(uint.Parse(Encoding.ASCII.GetString(digits), System.Globalization.CultureInfo.InvariantCulture), value);
        }

        Assert.True(JwtJsonMembers.TryParseEightDigits(BitConverter.ToUInt64("99999999"u8), out uint nines));
        Assert.Equal(99_999_999u, nines);

        // Every byte that is not a digit, at every position, among digits.
        byte[] word = "12345678"u8.ToArray();
        for (int at = 0; at < 8; at++)
        {
            for (int b = 0; b < 256; b++)
            {
                byte[] probe = (byte[])word.Clone();
                probe[at] = (byte)b;
                bool digit = b is >= '0' and <= '9';
                Assert.Equal(digit, JwtJsonMembers.TryParseEightDigits(BitConverter.ToUInt64(probe), out _));
            }
        }
    }

    /// <summary>Integers of every length up to past the 18 digits that are reported, with and without sign, fraction
    /// and exponent, ending the document or followed by more, in compact and spaced documents: the members and the
    /// integer the scan reports (checked by the collector) are the reader's.</summary>
    [Fact]
    public void Numbers_of_every_length_are_scanned_as_the_reader_reads_them()
    {
        const string Digits = "1234567890987654321012345";
        foreach (string layout in (string[])["{{\"n\":{0}}}", "{{\"n\":{0},\"m\":\"x\"}}", "{{ \"n\" : {0} }}", "{{\"a\":\"x\",\"n\":{0}}}"])
        {
            for (int length = 1; length <= Digits.Length; length++)
            {
                foreach (string number in (string[])[Digits[..length], "-" + Digits[..length], Digits[..length] + ".5", Digits[..length] + "e2", "9" + new string('0', length - 1)])
                {
                    byte[] json = Encoding.ASCII.GetBytes(string.Format(System.Globalization.CultureInfo.InvariantCulture, layout, number));
                    List<(string Name, JsonTokenType Kind, string Value)> members = Scan(json, out JwtJsonStep last);
                    Assert.Equal(JwtJsonStep.End, last);
                    Assert.Equal(ReadWithReader(json), members);
                }
            }
        }

        // A digit string interrupted where the eight-digit step would read it.
        foreach (string bad in (string[])["{\"n\":123456789x}", "{\"n\":12345678:}", "{\"n\":1234567890123456 }x"])
        {
            Scan(Encoding.ASCII.GetBytes(bad), out JwtJsonStep last);
            Assert.Equal(JwtJsonStep.Unsure, last);
        }
    }

    /// <summary>A document with no whitespace between tokens is scanned by the compact form of the member loop. Each
    /// whitespace byte (and a control character) inserted at every offset of such a document moves it to the other
    /// form or out of the scan: the scan says End exactly when the reader reads the document, with its members.</summary>
    [Fact]
    public void Whitespace_inserted_anywhere_in_a_compact_document_is_seen()
    {
        string compact = """{"aud":"fastgate","iss":"https://issuer.example","exp":1795745665,"sub":"248289761001","scope":"users:read users:write","roles":["reader","editor"],"x":{"y":[1,true]},"n":null}""";
        List<(string Name, JsonTokenType Kind, string Value)> whole = Scan(Encoding.ASCII.GetBytes(compact), out JwtJsonStep compactLast);
        Assert.Equal(JwtJsonStep.End, compactLast);
        Assert.Equal(ReadWithReader(Encoding.ASCII.GetBytes(compact)), whole);
        foreach (char space in (char[])[' ', '\t', '\n', '\r', '\u0001'])
        {
            for (int at = 0; at <= compact.Length; at++)
            {
                byte[] json = Encoding.ASCII.GetBytes(compact.Insert(at, space.ToString()));
                List<(string Name, JsonTokenType Kind, string Value)>? expected = TryReadWithReader(json);
                List<(string Name, JsonTokenType Kind, string Value)> members = Scan(json, out JwtJsonStep last);
                Assert.True((expected is not null) == (last == JwtJsonStep.End), $"{(int)space} at {at}: {last}");
                if (expected is not null)
                {
                    Assert.Equal(expected, members);
                }
            }
        }
    }

    /// <summary>Random documents from a small JSON grammar, half of them then mutated by one byte: whenever the
    /// scanner says End, Utf8JsonReader must read exactly the same members; and every unmutated document
    /// without escapes or duplicate names must be accepted.</summary>
    [Fact]
    public void Agrees_with_Utf8JsonReader_on_random_and_mutated_documents()
    {
        var random = new Random(8259);
        int accepted = 0;
        for (int i = 0; i < 30_000; i++)
        {
            var builder = new StringBuilder();
            bool plain = WriteObject(builder, random, depth: 0, out bool duplicates);
            byte[] json = Encoding.UTF8.GetBytes(builder.ToString());
            bool mutated = random.Next(2) == 0;
            if (mutated)
            {
                json = Mutate(json, random);

                // The validator checks UTF-8 before either path; a byte dropped into a sequence is not their case.
                if (!System.Text.Unicode.Utf8.IsValid(json))
                {
                    continue;
                }
            }

            List<(string Name, JsonTokenType Kind, string Value)> fast = Scan(json, out JwtJsonStep last);
            if (last == JwtJsonStep.End)
            {
                accepted++;
                Assert.Equal(ReadWithReader(json), fast);
            }
            else if (!mutated && plain && !duplicates)
            {
                Assert.Fail($"a valid escape-free document was not accepted: {Encoding.UTF8.GetString(json)}");
            }
        }

        Assert.True(accepted > 5_000, $"only {accepted} documents accepted");
    }

    private static List<(string Name, JsonTokenType Kind, string Value)> Scan(byte[] json, out JwtJsonStep last) =>
        Scan(json.AsSpan(), out last);

    private static List<(string Name, JsonTokenType Kind, string Value)> Scan(ReadOnlySpan<byte> json, out JwtJsonStep last)
    {
        var collector = new Collector([]);
        last = JwtJsonMembers.Scan(json, ref collector);
        return collector.Members;
    }

    private readonly struct Collector(List<(string, JsonTokenType, string)> members) : IJwtJsonMemberHandler
    {
        public List<(string Name, JsonTokenType Kind, string Value)> Members { get; } = members;

        public bool OnMember(ReadOnlySpan<byte> name, JsonTokenType kind, ReadOnlySpan<byte> value, long integer)
        {
            string text = Encoding.UTF8.GetString(value);

            // The integer parsed during the scan must be the one the text says, whenever it is reported.
            long expected = kind == JsonTokenType.Number && long.TryParse(text, System.Globalization.NumberStyles.AllowLeadingSign, System.Globalization.CultureInfo.InvariantCulture, out long parsed)
                && text.TrimStart('-').Length <= 18 ? parsed : JwtJsonMembers.NotAnInteger;
            Assert.Equal(expected, integer);
            Members.Add((Encoding.UTF8.GetString(name), kind, text));
            return true;
        }
    }

    /// <summary>The top-level members as the validator's reader path sees them (raw value text; strings unquoted
    /// and unescaped), after checking the whole document and name uniqueness.</summary>
    private static List<(string Name, JsonTokenType Kind, string Value)> ReadWithReader(byte[] json)
    {
        var result = new List<(string, JsonTokenType, string)>();
        var reader = new Utf8JsonReader(json);
        Assert.True(reader.Read());
        Assert.Equal(JsonTokenType.StartObject, reader.TokenType);
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            string name = reader.GetString()!;
            reader.Read();
            JsonTokenType kind = reader.TokenType;
            int start = (int)reader.TokenStartIndex;
            string value = kind == JsonTokenType.String ? reader.GetString()! : "";
            if (kind is JsonTokenType.StartObject or JsonTokenType.StartArray)
            {
                reader.Skip();
            }

            if (kind != JsonTokenType.String)
            {
                value = Encoding.UTF8.GetString(json, start, (int)reader.BytesConsumed - start);
            }

            result.Add((name, kind, value));
        }

        Assert.Equal(JsonTokenType.EndObject, reader.TokenType);
        Assert.False(reader.Read());
        Assert.Equal(result.Count, result.Select(m => m.Item1).Distinct(StringComparer.Ordinal).Count());
        return result;
    }

    private static List<(string Name, JsonTokenType Kind, string Value)>? TryReadWithReader(byte[] json)
    {
        try
        {
            return ReadWithReader(json);
        }
        catch (JsonException)
        {
            return null;
        }
    }

    /// <summary>The reader's members, or null for anything but one valid object with unique names.</summary>
    private static List<(string Name, JsonTokenType Kind, string Value)>? ReadWithReaderOrNull(byte[] json)
    {
        try
        {
            return ReadWithReader(json);
        }
        catch (Exception exception) when (exception is JsonException or Xunit.Sdk.XunitException)
        {
            return null;
        }
    }

    private static List<string> Strings(string array, out bool notString)
    {
        var result = new List<string>();
        byte[] bytes = Encoding.UTF8.GetBytes(array);
        int position = 0;
        while (JwtJsonMembers.TryNextString(bytes, ref position, out ReadOnlySpan<byte> element, out notString))
        {
            result.Add(Encoding.UTF8.GetString(element));
        }

        return result;
    }

    private static readonly string[] Names = ["iss", "aud", "exp", "sub", "a", "", "é", "ab", "x y"];
    private static readonly string[] StringValues = ["", "a", "https://x.example", "ü€", "a\\\"b", "\\u0041", "\\/", "tab\\t"];
    private static readonly string[] Numbers = ["0", "-0", "7", "1764170000", "-12", "1.5", "1e3", "-2.5E-3", "123456789012345678901"];
    private static readonly string[] Spaces = ["", "", "", " ", "\n", " \t\r\n "];

    /// <summary>true when nothing written needs an escape-aware reader.</summary>
    private static bool WriteObject(StringBuilder builder, Random random, int depth, out bool duplicates)
    {
        bool plain = true;
        duplicates = false;
        var seen = new HashSet<string>(StringComparer.Ordinal);
        builder.Append(Pick(Spaces, random)).Append('{').Append(Pick(Spaces, random));
        int count = random.Next(depth == 0 ? 8 : 3);
        for (int i = 0; i < count; i++)
        {
            if (i > 0)
            {
                builder.Append(',').Append(Pick(Spaces, random));
            }

            string name = Pick(Names, random);
            duplicates |= !seen.Add(name);
            builder.Append('"').Append(name).Append('"').Append(Pick(Spaces, random)).Append(':').Append(Pick(Spaces, random));
            plain &= WriteValue(builder, random, depth + 1);
            builder.Append(Pick(Spaces, random));
        }

        builder.Append('}').Append(Pick(Spaces, random));

        // Duplicates below the top level are legal JSON and not checked by either path.
        if (depth > 0)
        {
            duplicates = false;
        }

        return plain;
    }

    private static bool WriteValue(StringBuilder builder, Random random, int depth)
    {
        switch (random.Next(depth > 4 ? 5 : 7))
        {
            case 0:
                string text = Pick(StringValues, random);
                builder.Append('"').Append(text).Append('"');
                return !text.Contains('\\');
            case 1:
                builder.Append(Pick(Numbers, random));
                return true;
            case 2:
                builder.Append(random.Next(2) == 0 ? "true" : "false");
                return true;
            case 3:
            case 4:
                builder.Append("null");
                return true;
            case 5:
                return WriteObject(builder, random, depth, out _);
            default:
                bool plain = true;
                builder.Append('[').Append(Pick(Spaces, random));
                int count = random.Next(4);
                for (int i = 0; i < count; i++)
                {
                    if (i > 0)
                    {
                        builder.Append(',').Append(Pick(Spaces, random));
                    }

                    plain &= WriteValue(builder, random, depth + 1);
                }

                builder.Append(Pick(Spaces, random)).Append(']');
                return plain;
        }
    }

    private static readonly byte[] MutationBytes = "{}[]\":,.-+eE0 \\\t\n/tfnu\u0001x"u8.ToArray();

    private static byte[] Mutate(byte[] json, Random random)
    {
        var bytes = new List<byte>(json);
        int at = random.Next(bytes.Count + 1);
        switch (random.Next(3))
        {
            case 0 when at < bytes.Count:
                bytes.RemoveAt(at);
                break;
            case 1 when at < bytes.Count:
                bytes[at] = MutationBytes[random.Next(MutationBytes.Length)];
                break;
            default:
                bytes.Insert(at, MutationBytes[random.Next(MutationBytes.Length)]);
                break;
        }

        return [.. bytes];
    }

    private static string Pick(string[] values, Random random) => values[random.Next(values.Length)];
}
