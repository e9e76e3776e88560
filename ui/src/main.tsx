import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import { App } from "./App";
import "./styles.css";
import "./styles-social.css";
import "./styles-search.css";
import "./styles-media.css";
import "./styles-update.css";
import { preventFileDropNavigation } from "./lib/media";

preventFileDropNavigation();

createRoot(document.getElementById("root")!).render(
  <StrictMode>
    <App />
  </StrictMode>,
);
