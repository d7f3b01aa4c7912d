// The microphone's samples, off the main thread: the audio context runs at 16 kHz (the browser resamples the
// device), and each 20 ms of mono float samples goes to the page, which sends it as PCM16 to the session.
class MicFrames extends AudioWorkletProcessor {
  constructor() {
    super();
    this.frame = new Float32Array(320);
    this.filled = 0;
  }

  process(inputs) {
    const channel = inputs[0] && inputs[0][0];
    if (channel) {
      for (let i = 0; i < channel.length; i++) {
        this.frame[this.filled++] = channel[i];
        if (this.filled === this.frame.length) {
          this.port.postMessage(this.frame.slice());
          this.filled = 0;
        }
      }
    }
    return true;
  }
}

registerProcessor('mic-frames', MicFrames);
