// The React example app: the brief's NotificationSystem, BannerSystem and an admin panel on
// @universal-sse/client, with the fetch transport and a bearer token. The demo serves its
// build at /react/; sign in with ?as=<token> (the demo's users: alice-token, bob-token,
// admin-token).
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';

import { App } from './App.js';

const root = document.getElementById('root');
if (root !== null) {
  createRoot(root).render(
    <StrictMode>
      <App />
    </StrictMode>,
  );
}
