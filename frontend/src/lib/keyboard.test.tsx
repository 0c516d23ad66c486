import { fireEvent, render } from "@testing-library/react";
import { describe, expect, it, vi } from "vitest";

import { activates, isTyping, useKeys } from "./keyboard";

function Page({ onEnter, onC }: { onEnter: () => void; onC: () => void }) {
  useKeys({ Enter: onEnter, c: onC });
  return (
    <div>
      <button type="button">Sort by runtime</button>
      <a href="/x">a link</a>
      <input type="checkbox" aria-label="row" />
      <input type="text" aria-label="filter" />
      <output data-testid="plain" />
    </div>
  );
}

describe("useKeys", () => {
  it("leaves Enter to focused links and buttons, and keeps c working on a checkbox", () => {
    const onEnter = vi.fn();
    const onC = vi.fn();
    const view = render(<Page onEnter={onEnter} onC={onC} />);
    const button = view.getByRole("button");
    expect(fireEvent.keyDown(button, { key: "Enter" })).toBe(true); // not prevented: the button gets it
    fireEvent.keyDown(view.getByRole("link"), { key: "Enter" });
    expect(onEnter).not.toHaveBeenCalled();
    fireEvent.keyDown(view.getByTestId("plain"), { key: "Enter" });
    expect(onEnter).toHaveBeenCalledTimes(1);
    fireEvent.keyDown(view.getByRole("checkbox"), { key: "c" });
    expect(onC).toHaveBeenCalledTimes(1);
    fireEvent.keyDown(view.getByRole("textbox"), { key: "c" });
    expect(onC).toHaveBeenCalledTimes(1);
  });

  it("tells text fields from other inputs", () => {
    const box = document.createElement("input");
    box.type = "checkbox";
    expect(isTyping(box)).toBe(false);
    expect(activates(box)).toBe(true);
    const text = document.createElement("input");
    expect(isTyping(text)).toBe(true);
    expect(isTyping(document.createElement("div"))).toBe(false);
    expect(activates(document.createElement("div"))).toBe(false);
  });
});
