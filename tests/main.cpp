#define BOOST_TEST_MODULE asyncio
#include <boost/test/unit_test.hpp>
