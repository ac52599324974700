using ScalingLedger.Domain.Studies;

namespace ScalingLedger.Domain.Tests;

public class TextRulesTests
{
    [Theory]
    [InlineData("alice", null)]
    [InlineData("<img src=x onerror=alert(1)>", null)] // stored as text; every page and chart encodes it
    [InlineData("Ünïcödé 名前 🙂", null)]
    [InlineData("a\0b", "NUL")]
    [InlineData("a\u0007b", "control character (U+0007)")]
    [InlineData("evil\u202Egnp.exe", "bidirectional control character (U+202E)")]
    [InlineData("a\u2066b", "bidirectional")]
    public void A_name_is_refused_for_what_it_holds(string value, string? problem)
    {
        var found = TextRules.Problem("name", value);
        if (problem is null) found.ShouldBeNull();
        else found!.ShouldContain(problem);
    }

    [Fact]
    public void A_name_longer_than_the_cap_is_refused_with_its_length()
    {
        TextRules.Problem("owner", new string('a', 201))!.ShouldBe("owner has 201 characters: at most 200");
        TextRules.Problem("owner", new string('a', 200)).ShouldBeNull();
        TextRules.Problem("owner", null).ShouldBe("owner is missing");
        TextRules.Problem("owner", null, optional: true).ShouldBeNull();
    }

    [Fact]
    public void Half_a_surrogate_pair_is_refused_and_a_whole_one_kept()
    {
        TextRules.Problem("name", "broken " + (char)0xD800 + " pair")!.ShouldContain("broken surrogate pair");
        TextRules.Problem("name", "tail " + (char)0xDC00).ShouldNotBeNull();
        TextRules.Problem("name", "whole " + char.ConvertFromUtf32(0x1F642)).ShouldBeNull();
    }

    [Fact]
    public void Line_breaks_are_allowed_only_where_text_may_span_lines()
    {
        TextRules.Problem("detail", "line one\nline two", multiline: true).ShouldBeNull();
        TextRules.Problem("name", "line one\nline two").ShouldNotBeNull();
    }
}
