import { describe, expect, it } from "vitest";
import { conversationKind, isUserId, parseNotice } from "./conversation";

describe("conversation ids and contents", () => {
  it("tells notices, groups and users apart", () => {
    expect(conversationKind("notices")).toBe("notices");
    expect(conversationKind("g12")).toBe("group");
    expect(conversationKind("10001")).toBe("direct");
    expect(conversationKind("gx")).toBe("direct");
    expect(isUserId("g3")).toBe(false);
    expect(isUserId("42")).toBe(true);
  });

  it("parses notices and rejects anything else", () => {
    expect(parseNotice('{"id":3,"title":"T","body":"B"}')).toEqual({ id: 3, title: "T", body: "B" });
    expect(parseNotice('{"id":3}')).toBeNull();
    expect(parseNotice("not json")).toBeNull();
    expect(parseNotice("[1,2]")).toBeNull();
  });
});
