import { mount } from 'svelte';
import App from './App.svelte';
import './app.css';
import { pruneFontStacks } from './lib/fonts';
import { mark } from './lib/perf';

mark('latchkey:script-start');
pruneFontStacks(document.documentElement);
mark('latchkey:fonts-pruned');

const target = document.getElementById('app');
if (!target) throw new Error('index.html has no #app element');

export default mount(App, { target });
