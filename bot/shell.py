"""Talk to the bot in the terminal, through the gateway, exactly as WhatsApp does.

Uses a running helpline when one answers on GATEWAY_PORT; otherwise starts one for the
length of the session and stops it afterwards.
"""

from __future__ import annotations

import secrets
import subprocess
import sys

import httpx

from bot.core.config import get_settings
from bot.launcher import service_commands, start, stop, wait_until_ready


def _running(url: str) -> bool:
    try:
        return httpx.get(f"{url}/healthz", timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


def main() -> int:
    """Read lines, send each through /simulator/messages, print the replies."""
    settings = get_settings()
    url = f"http://{settings.gateway_host}:{settings.gateway_port}"
    processes: list[subprocess.Popen[bytes]] = []
    if not _running(url):
        print("Starting Sahay (Rasa takes about half a minute)…", flush=True)
        processes = [start(c, log_dir=None) for c in service_commands(settings)]
        if not wait_until_ready(url, processes):
            stop(processes)
            print("Sahay did not start; try `make run` to see its logs.", file=sys.stderr)
            return 1
    phone = "+91900" + "".join(secrets.choice("0123456789") for _ in range(7))
    print(f"Talking to Sahay as {phone}. Type a message; Ctrl-D or /quit ends.\n")
    try:
        with httpx.Client(base_url=url, timeout=60) as client:
            while True:
                try:
                    text = input("you> ").strip()
                except EOFError:
                    break
                if text in {"/quit", "/exit"}:
                    break
                if not text:
                    continue
                response = client.post("/simulator/messages", json={"phone": phone, "text": text})
                if response.status_code != 200:
                    print(f"[the gateway answered {response.status_code}]")
                    continue
                for reply in response.json():
                    print(f"sahay> {reply['text']}\n")
    except KeyboardInterrupt:
        pass
    finally:
        stop(processes)
    return 0


if __name__ == "__main__":
    sys.exit(main())
