// oxlint-disable-next-line import/no-unassigned-import -- registers the DOM matchers
import "@testing-library/jest-dom/vitest";

import { cleanup } from "@testing-library/react";
import { afterEach } from "vitest";

afterEach(cleanup);

// jsdom lays nothing out: give elements a size (the virtualized table measures its viewport)
// and accept the scrolling calls it cannot perform.
Object.defineProperty(HTMLElement.prototype, "offsetHeight", { configurable: true, get: () => 800 });
Object.defineProperty(HTMLElement.prototype, "offsetWidth", { configurable: true, get: () => 1200 });
Object.defineProperty(Element.prototype, "clientHeight", { configurable: true, get: () => 800 });
Object.defineProperty(Element.prototype, "clientWidth", { configurable: true, get: () => 1200 });
Element.prototype.scrollTo = function scrollTo() {};
window.scrollTo = () => {};
