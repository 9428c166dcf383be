// Entry for /dev/mock.html: the UI over an in-memory fake of the commands.
import './mock-backend';
import '../src/main';
