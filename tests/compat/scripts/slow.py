"""run() takes longer than the scoring timeout (the suite sets SCORING_TIMEOUT_MS)."""
import time


def init():
    pass


def run(raw_data):
    time.sleep(3)
    return "finished"
