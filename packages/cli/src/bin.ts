#!/usr/bin/env node
import { runProcess } from './launcher/process.js';

await runProcess();
